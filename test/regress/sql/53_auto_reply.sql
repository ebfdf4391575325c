-- Out-of-office detection: cadence.auto_reply_signal(headers, subject, body)
-- says whether an inbound reply is an automatic one and what gave it away;
-- cadence.auto_reply_return_date(body, received_at, tz) reads the day its
-- sender is back.
--
-- Every message below arrives at 2026-12-01 23:30 UTC, read in
-- Europe/Berlin: the local date is Wednesday 2026-12-02.  Calendar:
-- Thu 12-03, Fri 12-04, Sat 12-05, Mon 12-07, Tue 12-08, Mon 12-14.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set received '2026-12-01 23:30:00+00'
\set tz 'Europe/Berlin'

-- The reference date the return dates are read from.
SELECT (timestamptz :'received' AT TIME ZONE :'tz')::date AS local_date,
	   to_char(timestamptz :'received' AT TIME ZONE :'tz', 'Dy') AS weekday;

-- One row a message: its headers (name -> value, or an array of values),
-- subject and body, the signal it should give and the return date it
-- should yield.
CREATE TEMP TABLE messages (
	id integer PRIMARY KEY,
	what text NOT NULL,
	headers jsonb,
	subject text,
	body text,
	signal text,
	back date
);

-- Automatic replies.
INSERT INTO messages VALUES
(1, 'Gmail vacation responder', '{"Auto-Submitted": "auto-replied", "Subject": "Out of office"}',
 'Out of office',
 E'Hi,\n\nI''m out of the office until Friday, December 4 with limited access to email. I''ll reply when I''m back.',
 'auto_submitted', '2026-12-05'),
(2, 'Exchange, with the header Outlook also puts on normal mail',
 '{"auto-submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}',
 'Automatic reply: Quick question about Acme',
 'Thank you for your email. I am currently on annual leave and will return on Monday, 7 December 2026. For urgent matters please contact sales@acme.com.',
 'auto_submitted', '2026-12-07'),
(3, 'Auto-Submitted with parameters, repeated headers as arrays',
 '{"Received": ["from a", "from b"], "AUTO-SUBMITTED": ["auto-replied; owner-email=\"jo@acme.com\""]}',
 'Re: Quick question', 'Back tomorrow.',
 'auto_submitted', '2026-12-03'),
(4, 'X-Autoreply, US slash date', '{"X-Autoreply": "yes"}',
 'Re: Quick question', 'I''m away until 12/9 and will respond when I return.',
 'auto_reply_header', '2026-12-10'),
(5, 'X-Autorespond, a date next year', '{"X-Autorespond": "Re: Quick question"}',
 'Autoreply: Quick question',
 'I am on parental leave until March 1, 2027. Please contact my colleague Dana.',
 'auto_reply_header', '2027-03-02'),
(6, 'Precedence: auto_reply, a day of the month', '{"precedence": "auto_reply"}',
 'Re: Quick question', 'I will be back on the 14th.',
 'auto_reply_header', '2026-12-14'),
(7, 'X-Mail-Autoreply, abbreviated month', '{"X-Mail-Autoreply": "yes"}',
 'Auto Response', 'I''m travelling and back in the office on Dec. 10.',
 'auto_reply_header', '2026-12-10'),
(8, 'X-Autoreply-From, empty body', '{"X-Autoreply-From": "jo@acme.com"}',
 'Re: Quick question', '',
 'auto_reply_header', NULL),
(9, 'subject first, ISO date', '{}',
 'Out of Office: Re: Quick question', 'Out of office until 2026-12-06.',
 'subject', '2026-12-07'),
(10, 'subject marker in brackets, weekday', NULL,
 '[Auto-Reply] Re: Quick question', 'I am out of the office. I will be back on Monday.',
 'subject', '2026-12-07'),
(11, 'German Outlook', '{}',
 'Abwesenheitsnotiz: Kurze Frage',
 'Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 4. Dezember 2026 nicht im Büro und habe nur eingeschränkten Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an vertrieb@acme.de.',
 'subject', '2026-12-05'),
(12, 'German, dotted date', '{}',
 'Automatische Antwort: Kurze Frage', 'Ich bin ab dem 07.12.2026 wieder im Büro.',
 'subject', '2026-12-07'),
(13, 'German, text only, date before the return', '{}',
 'AW: Kurze Frage', 'Guten Tag, ich bin derzeit im Urlaub. Ab Montag bin ich wieder erreichbar.',
 'text', '2026-12-07'),
(14, 'French', '{}',
 'Réponse automatique : Question rapide',
 'Bonjour, je suis absente du bureau jusqu''au 8 décembre inclus.',
 'subject', '2026-12-09'),
(15, 'French, weekday and date', '{}',
 'Absence du bureau', 'Je serai de retour le lundi 14 décembre.',
 'subject', '2026-12-14'),
(16, 'French, text only, slash date read day/month', '{}',
 'RE: Question rapide',
 'Merci pour votre message. Je suis actuellement en congé et serai de retour le 10/12.',
 'text', '2026-12-10'),
(17, 'Spanish', '{}',
 'Respuesta automática: Pregunta rápida', 'Estoy fuera de la oficina hasta el 9 de diciembre.',
 'subject', '2026-12-10'),
(18, 'Spanish, return phrase', '{}',
 'Fuera de la oficina',
 'Volveré el lunes 7 de diciembre. Para asuntos urgentes, escriba a ventas@acme.es',
 'subject', '2026-12-07'),
(19, 'Spanish, text only, slash date read day/month', '{}',
 'RE: Pregunta rápida',
 'Gracias por su mensaje. Me encuentro de vacaciones hasta el 11/12.',
 'text', '2026-12-12'),
(20, 'Portuguese', '{}',
 'Resposta automática: Pergunta rápida', 'Estou de férias até 6 de dezembro de 2026.',
 'subject', '2026-12-07'),
(21, 'Portuguese, one word subject', '{}',
 'Ausente', 'Retorno no dia 15/12.',
 'subject', '2026-12-15'),
(22, 'Dutch, the first date given wins', '{}',
 'Automatisch antwoord: Korte vraag',
 'Ik ben afwezig tot en met 4 december. Vanaf maandag 7 december ben ik weer op kantoor.',
 'subject', '2026-12-05'),
(23, 'Dutch, one word subject', '{}',
 'Afwezig', 'Ik ben met vakantie. Terug op 8 december.',
 'subject', '2026-12-08'),
(24, 'Italian', '{}',
 'Risposta automatica: Domanda veloce',
 'Sono in ferie fino al 7 dicembre 2026 con accesso limitato alla posta.',
 'subject', '2026-12-08'),
(25, 'Italian, return phrase', '{}',
 'Fuori sede', 'Rientrerò in ufficio il 9 dicembre.',
 'subject', '2026-12-09'),
(26, 'English, text only, US date with year', NULL,
 'Re: Quick question',
 E'Hello,\n\nI''m currently out of office and will be back on 12/08/2026. For anything urgent, please contact support@acme.com.\n\nBest,\nJo',
 'text', '2026-12-08'),
(27, 'English, a month without a day is not read', '{}',
 'Re: Quick question',
 'Thanks for your email. I''m on maternity leave until June 2027.',
 'text', NULL),
(28, 'English, says what it is', '{}',
 'Re: Quick question', 'This is an automated response. I will return on Tuesday.',
 'text', '2026-12-08'),
(29, 'English, a return with an auto-reply cue', '{}',
 'Re: Quick question',
 'Thank you for your message. I will be back in the office on December 10th, 2026 and will respond then.',
 'text', '2026-12-10'),
(30, 'English, range of US slash dates', '{}',
 'Re: Quick question', 'I am out of the office from 11/30 to 12/4, with no access to email.',
 'text', '2026-12-05'),
(31, 'English, range whose 28/11 says day/month', '{}',
 'Re: Quick question', 'I am on holiday from 28/11 until 6/12.',
 'text', '2026-12-07'),
(32, 'stale auto-reply: the date is past', '{}',
 'Re: Quick question', 'I am out of the office until November 20.',
 'text', NULL),
(33, 'a year in the past (a typo)', '{}',
 'Re: Quick question', 'I''m away until 12/10/2025.',
 'text', NULL),
(34, 'more than 366 days ahead', '{}',
 'Re: Quick question', 'I''m on sabbatical. I will be back on 2028-01-15.',
 'text', NULL),
(35, 'a date that does not exist', '{}',
 'Re: Quick question', 'I''m on leave until February 30.',
 'text', NULL),
(36, 'until a weekday', '{}',
 'Re: Quick question', 'I am out of the office until Thursday.',
 'text', '2026-12-04'),
(37, 'subject only, the date is read from the body', '{}',
 'OOO until Monday', '',
 'subject', NULL),
(38, 'Swedish subject', '{}',
 'Automatiskt svar: Snabb fråga', 'Jag är på semester.',
 'subject', NULL),
(39, 'headers that are not an object are ignored', '["Auto-Submitted: auto-replied"]',
 'Re: Quick question', 'I am out of the office until 12/07.',
 'text', '2026-12-08');

-- Human replies.
INSERT INTO messages VALUES
(101, 'a plain yes', '{}',
 'Re: Quick question', 'Sounds good, let''s talk Tuesday at 3pm.',
 NULL, NULL),
(102, 'mentions an office', '{}',
 'Re: Quick question', 'Happy to meet - let''s meet at your office on Monday.',
 NULL, NULL),
(103, 'was out of office', '{}',
 'Re: Quick question', 'I was out of office last week but I''m interested. Can you send pricing?',
 NULL, NULL),
(104, 'a planned vacation', '{}',
 'Re: Quick question', 'I''ll be on vacation next week, can we talk after the 14th?',
 NULL, NULL),
(105, 'Outlook''s suppress header and a group''s Precedence: bulk',
 '{"X-Auto-Response-Suppress": "All", "Precedence": "bulk"}',
 'RE: Quick question', 'Please send me the deck.',
 NULL, NULL),
(106, 'Auto-Submitted: no', '{"Auto-Submitted": "No"}',
 'Re: Quick question', 'Yes - interested.',
 NULL, NULL),
(107, 'our own subject is about out of office', '{}',
 'Re: Out of office coverage for support teams', 'This is a real problem for us, let''s talk.',
 NULL, NULL),
(108, 'German, a planned holiday', '{}',
 'AW: Kurze Frage', 'Danke! Ich bin nächste Woche im Urlaub, lassen Sie uns danach telefonieren.',
 NULL, NULL),
(109, 'quotes an earlier auto-reply', '{}',
 'Re: Quick question',
 E'Sorry, ignore my auto-reply, I''m here.\n\nOn Tue, Dec 1, 2026 at 9:00 AM Jo <jo@acme.com> wrote:\n> I am out of the office until December 7.',
 NULL, NULL),
(110, 'French; the date reader does not judge, it reads "au bureau demain"', '{}',
 'RE: Question rapide',
 'Merci, je suis intéressé. Je serai au bureau demain, appelez-moi.',
 NULL, '2026-12-03'),
(111, 'Spanish', '{}',
 'RE: Pregunta rápida', 'Gracias, me interesa. ¿Hablamos el lunes?',
 NULL, NULL),
(112, 'out of ideas is not out of office', '{}',
 'Re: Quick question', 'I''m out of ideas on this one - can you send examples?',
 NULL, NULL),
(113, 'nothing at all', NULL, NULL, NULL,
 NULL, NULL),
(114, 'known miss: a human promise to be back, with thanks, reads as an auto-reply', '{}',
 'Re: Quick question',
 'Thanks for your email. I''ll be back at my desk at 2pm and will call you.',
 'text', NULL);

-- Every message gives the expected signal and return date: no rows here.
SELECT id, what, signal AS expected_signal, got_signal, back AS expected_back, got_back
  FROM (SELECT m.*,
			   cadence.auto_reply_signal(headers, subject, body) AS got_signal,
			   cadence.auto_reply_return_date(body, :'received', :'tz') AS got_back
		  FROM messages m) AS t
 WHERE got_signal IS DISTINCT FROM signal OR got_back IS DISTINCT FROM back
 ORDER BY id;

-- How many were checked.
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE id < 100) AS auto_replies,
	   count(*) FILTER (WHERE id > 100) AS human_replies,
	   count(back) AS with_return_date
  FROM messages;

-- Each signal on its own: headers, then subject, then text, in that order.
SELECT cadence.auto_reply_signal('{"Auto-Submitted": "auto-replied"}', 'Automatic reply: x',
								 'I am out of the office.') AS header_first,
	   cadence.auto_reply_signal('{"x-autoreply": "YES"}', 'Re: x', '') AS any_case,
	   cadence.auto_reply_signal('{"X-Autoreply": "no"}', 'Re: x', 'ok') AS explicit_no,
	   cadence.auto_reply_signal('{}', 'Re: pricing (Out of office until Dec 7)', '') AS in_brackets,
	   cadence.auto_reply_signal('{}', 'Re: pricing - Auto-Reply', '') AS at_the_end,
	   cadence.auto_reply_signal('{}', 'Re: x', 'ICH BIN ZURZEIT AUSSER HAUS.') AS shouting;

-- Odd input never raises.  A NULL, a JSON array, string, number or null
-- as headers, nested objects and JSON nulls as values: no signal.
SELECT cadence.auto_reply_signal(NULL, NULL, NULL) AS all_null,
	   cadence.auto_reply_signal('[]', '', '') AS empty,
	   cadence.auto_reply_signal('"Auto-Submitted"', NULL, NULL) AS json_string,
	   cadence.auto_reply_signal('42', NULL, NULL) AS json_number,
	   cadence.auto_reply_signal('null', NULL, NULL) AS json_null,
	   cadence.auto_reply_signal('{"Auto-Submitted": {"v": "auto-replied"}}', NULL, NULL) AS nested,
	   cadence.auto_reply_signal('{"Auto-Submitted": null, "X-Autoreply": ""}', NULL, NULL) AS no_values,
	   cadence.auto_reply_signal('{"Auto-Submitted": [null, "auto-generated"]}', NULL, NULL) AS one_of_many;

-- The time zone decides the reference date: at 23:30 UTC it is already
-- Wednesday in Berlin but still Tuesday in New York, so "tomorrow" and
-- "Wednesday" differ.  NULL for an unknown zone; a NULL zone is UTC.
SELECT tz, cadence.auto_reply_return_date('Back tomorrow.', :'received', tz) AS tomorrow,
	   cadence.auto_reply_return_date('Back on Wednesday.', :'received', tz) AS wednesday
  FROM (VALUES ('Europe/Berlin'), ('UTC'), ('America/New_York'), ('Mars/Olympus'), (NULL)) AS z(tz);

-- Slash dates: month/day after English words, day/month after any other
-- language, and whichever a part above 12 shows anywhere in the text.
SELECT body, cadence.auto_reply_return_date(body, :'received', :'tz') AS back
  FROM (VALUES ('I am back on 12/7.'),
			   ('Estaré de vuelta el 7/12.'),
			   ('I am back on 7/12.'),
			   ('Away from 30/11, back on 7/12.'),
			   ('Back on 13/12.'),
			   ('Back on 7.12.'),
			   ('Back on 07.12.26.'),
			   ('Back on 2026/12/07.')) AS b(body);

-- Dates that cannot be, or are too far: NULL.  366 days ahead is the last
-- one read.  A year-less date in the 30 days before the message is the
-- past (an auto-reply left on), not next year.
SELECT body, cadence.auto_reply_return_date(body, :'received', :'tz') AS back
  FROM (VALUES ('Back on February 30.'),
			   ('Back on 2/29.'),
			   ('Back on 13/13.'),
			   ('Back on 2027-12-03.'),
			   ('Back on 2027-12-04.'),
			   ('Back on November 15.'),
			   ('Back on October 15.'),
			   ('Until December 1.'),
			   ('I''ll get back to you on Monday.'),
			   ('Je suis absent jusqu''à mon retour.'),
			   (''),
			   (NULL)) AS b(body);

-- And the odd received_at: NULL, or out of range.
SELECT cadence.auto_reply_return_date('Back tomorrow.', NULL) AS no_time,
	   cadence.auto_reply_return_date('Back tomorrow.', 'infinity') AS infinity,
	   cadence.auto_reply_return_date('Back tomorrow.', '2026-12-01 12:00+00') AS default_utc;
