-- Auto-replies: telling an out-of-office message from a real reply, and
-- reading when its sender is back.  Both public functions are pure: they
-- look only at their arguments, never raise on odd input (NULLs, empty
-- strings, headers that are not a JSON object, dates that do not exist)
-- and answer NULL where they have nothing to say.
--
--   auto_reply_signal(headers, subject, body)    NULL for a human reply,
--       else the first of these that gives the message away:
--         auto_submitted      RFC 3834 Auto-Submitted, any value but "no"
--         auto_reply_header   X-Autoreply, X-Autorespond, X-Autoreply-From,
--                             X-Mail-Autoreply, Precedence: auto_reply
--         subject             "Automatic reply: ...", "Out of Office", ...
--         text                "I am out of the office until ...", ...
--   auto_reply_return_date(body, received_at, tz)   the first day the
--       sender says they are back, or NULL.
--
-- Text is compared folded (auto_reply_fold): lower case, accents and
-- German sharp s spelt out in ASCII, runs of white space as one space.  So
-- "RÉPONSE AUTOMATIQUE" and "Reponse automatique" are the same, whatever
-- the database's locale, and every pattern below is written in that form
-- ("buro" for "Büro", "ausser" for "außer").  The database is expected to
-- be UTF-8.  MIME encoded-words (=?UTF-8?Q?...?=) must be decoded by the
-- caller: they are not read here.

-- t folded for matching: lower case, no accents, ß as ss, typographic
-- apostrophes and dashes as ASCII, any run of white space as one space.
CREATE OR REPLACE FUNCTION cadence.auto_reply_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT btrim(regexp_replace(lower(translate(replace(replace(t, 'ß', 'ss'), 'ẞ', 'ss'),
			'ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖòóôõöÙÚÛÜùúûüÇçÑñÝýÿ’‘´`–—' || chr(160),
			'AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNnYyy''''''''--' || ' ')),
		'\s+', ' ', 'g'))
$$;

-- A regular expression matching any of words (themselves regular
-- expressions), as one non-capturing group: '(?:a|b|c)'.
CREATE OR REPLACE FUNCTION cadence.auto_reply_any(VARIADIC words text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '(?:' || array_to_string(words, '|') || ')'
$$;

-- What the sender wrote themselves: the body up to the first quoted part
-- (a line starting with ">", "On ... wrote:" and its translations,
-- "-----Original Message-----", Outlook's line of underscores), at most
-- 1000 characters of it.  A human reply that quotes an earlier auto-reply
-- or our own email is judged on its own words (and one that answers below
-- the quote has none: it is taken for human).
CREATE OR REPLACE FUNCTION cadence.auto_reply_own_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT left(regexp_replace(left(coalesce(body, ''), 4000),
		'(?:^|\n)[ \t]*(?:>|_{8,}|-{2,} ?(?:original message|urspr.ngliche nachricht|message d.origine|mensaje original|mensagem original)'
		'|(?:on|am|le|el|em|op|il) .{0,200}(?:wrote|schrieb|a .crit|escribi.|escreveu|schreef|ha scritto)).*$',
		'', 'i'), 1000)
$$;

-- The headers of a message as (name, value) rows, both trimmed and lower
-- case.  headers is a JSON object of name -> value, the value a string or,
-- for a repeated header, an array of strings; numbers and booleans are
-- taken as their text.  Anything else (headers not an object, JSON null,
-- nested objects) gives no rows.
CREATE OR REPLACE FUNCTION cadence.auto_reply_headers(headers jsonb, OUT name text, OUT value text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT lower(btrim(h.key, E' \t\r\n')), lower(btrim(v.value #>> '{}', E' \t\r\n'))
	  FROM jsonb_each(CASE WHEN jsonb_typeof(headers) = 'object' THEN headers END) AS h
	 CROSS JOIN LATERAL jsonb_array_elements(
			CASE WHEN jsonb_typeof(h.value) = 'array' THEN h.value
				 ELSE jsonb_build_array(h.value) END) AS v(value)
	 WHERE jsonb_typeof(v.value) IN ('string', 'number', 'boolean')
$$;

-- Which header gives an automatic message away: 'auto_submitted',
-- 'auto_reply_header' or NULL.
--
-- Auto-Submitted (RFC 3834) counts with any value but "no" (auto-replied,
-- auto-generated, auto-notified, with or without parameters after ";").
-- The de-facto headers count with any value except an explicit no:
-- X-Autoreply, X-Autorespond, X-Autoreply-From, X-Mail-Autoreply.  An
-- empty header says nothing.
--
-- Precedence counts only as auto_reply.  Precedence: bulk and list are
-- what mailing lists and Google Groups put on mail that people wrote by
-- hand, so a prospect answering from a group address would be taken for a
-- machine; junk is rare and non-standard, and the responders that send it
-- also say so in Auto-Submitted, a subject or the text.
--
-- X-Auto-Response-Suppress is deliberately not read: Outlook and Exchange
-- set it on ordinary mail to ask others not to auto-reply to it.
CREATE OR REPLACE FUNCTION cadence.auto_reply_header_signal(headers jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN bool_or(name = 'auto-submitted'
					 AND btrim(split_part(value, ';', 1)) NOT IN ('no', ''))
			THEN 'auto_submitted'
		WHEN bool_or(name IN ('x-autoreply', 'x-autorespond', 'x-autoreply-from',
							  'x-mail-autoreply')
					 AND value NOT IN ('no', 'false', '0', '')
					 OR name = 'precedence' AND value IN ('auto_reply', 'auto-reply'))
			THEN 'auto_reply_header'
		END
	  FROM cadence.auto_reply_headers(headers)
$$;

-- What makes a subject that of an auto-reply.  Two kinds of marker:
--
--   machine words ("Automatic reply", "Autoreply", "Abwesenheitsnotiz",
--   "Réponse automatique", ...) count at the start of the subject, in
--   brackets, before a colon or at the very end;
--   away words ("Out of Office", "On vacation", "Ausente", "Afwezig", ...)
--   count only at the start or in brackets.
--
-- A human reply's subject starts with "Re:" and then our own subject, so
-- "Re: Out of office coverage for your team" is not an auto-reply, while
-- "Out of Office: Re: ..." and "Re: Pricing [Auto-Reply]" are.
--
-- This builds the regular expression for a folded subject; the callers
-- are PL/pgSQL, whose cached plans keep it as a constant.
CREATE OR REPLACE FUNCTION cadence.auto_reply_subject_regex() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH markers AS (
		SELECT cadence.auto_reply_any(
				'auto(?:matic|mated)?[- ]?(?:reply|replied|response|responder)',
				'autoresponder',
				'abwesenheitsnotiz', 'automatische antwort',          -- de
				'reponse automatique',                                -- fr
				'respuesta automatica',                               -- es
				'resposta automatica',                                -- pt
				'automatisch antwoord',                               -- nl
				'risposta automatica',                                -- it
				'automatiskt svar', 'automatisk svar', 'autosvar')    -- sv, da, no
			AS machine,
			   cadence.auto_reply_any(
				'out of (?:the )?office', 'ooo',
				'away from (?:the |my )?(?:office|desk)', 'away (?:until|till|through)',
				'on (?:[a-z]+ )?(?:vacation|holidays?|leave)',
				'vacation (?:reply|response|notice|message)',
				'abwesend', 'abwesenheit', 'nicht im bu(?:e)?ro', 'im urlaub',  -- de
				'absence du bureau', 'absente? du bureau', 'en conges?',      -- fr
				'fuera de (?:la )?oficina', 'de vacaciones', 'ausente',         -- es, pt
				'fora do escritorio', 'de ferias', 'em ferias',                 -- pt
				'afwezig', 'afwezigheid', 'met vakantie', 'op vakantie',        -- nl
				'fuori sede', 'fuori (?:dall.)?ufficio', 'assente', 'in ferie') -- it
			AS away
	)
	SELECT cadence.auto_reply_any(
			'^[\s\[(]*' || cadence.auto_reply_any(machine, away) || '\M',
			'[\[(]\s*' || cadence.auto_reply_any(machine, away) || '\M[^\])]*[\])]',
			'\m' || machine || '\s*(?::|$)')
	  FROM markers
$$;

-- What makes a body say that its sender is away, read in the sender's own
-- words (auto_reply_own_text), folded.  Either
--
--   a statement of absence, in the present tense and the first person:
--   "I am out of the office", "I'm currently on parental leave",
--   "I'm away until ...", "Ich bin bis 6.12. nicht im Büro", "Je suis
--   absente", "Estoy de vacaciones", "Ik ben afwezig", "Sono in ferie";
--   or limited access to email ("with limited access to email");
--   or "this is an automatic reply";
--
--   or a promise to be back ("I will be back on", "I will return on",
--   "Je serai de retour le", "wieder im Büro", ...) together with
--   something only auto-replies say as well: thanks for your message,
--   urgent matters, "in my absence", "upon my return".  A return alone is
--   what people write by hand too ("I'll be back on Monday and will call
--   you").
--
-- Past and planned absences are not statements of absence: "I was out of
-- office last week", "I'll be on vacation next week, can we talk after?",
-- "I'm on vacation next week" and "Ich bin nächste Woche im Urlaub" are
-- human replies.
--
-- This builds the three regular expressions for folded text: absence,
-- back (a promise to be back) and cue (what goes with it).
CREATE OR REPLACE FUNCTION cadence.auto_reply_text_regexes(OUT absence text, OUT back text, OUT cue text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH later AS (
		-- Words for a time to come, which make an absence a plan.
		SELECT cadence.auto_reply_any(
				'next', 'tomorrow', 'later', 'nachsten?', 'kommenden?', 'morgen',
				'ubermorgen', 'prochaine?', 'demain', 'proxim[ao]', 'manana',
				'amanha', 'volgende', 'prossim[ao]', 'domani') AS word
	), statement AS (
		SELECT
			-- Up to five words between the subject and the state, in the
			-- languages that put a time there ("ich bin bis zum 6.12.
			-- nicht im buro"), none of them a word for a time to come.
			$re$(?: (?!$re$ || word || $re$\M)[a-z0-9.']+){0,5} $re$ AS gap,
			-- Nor may one follow the state: "i'm on vacation next week".
			'(?! (?:all |for |the whole |during )?' ||
				cadence.auto_reply_any(word, 'this coming', 'la semaine prochaine',
					'la semana que viene', '(?:la|na|a) proxima semana',
					'semana que vem', 'la prossima settimana') || ')' AS now
		  FROM later
	), rules AS (
		SELECT
			cadence.auto_reply_any(
				$re$\m(?:i am|i'm|im)(?: (?:currently|presently|now|still|temporarily|unfortunately))? $re$ ||
				cadence.auto_reply_any(
					'out of (?:the )?office', 'ooo',
					'away from (?:the |my )?(?:office|desk|work|e ?-?mail)',
					'(?:on|out on) (?:a )?(?:[a-z]+ )?(?:leave|vacation|holidays?|sabbatical|pto|business trip)',
					'away (?:until|till|through|from|and|with|on)',
					'out (?:until|till|through)', 'not in the office', 'absent',
					'off (?:work|until|till)') || now,
				'\m(?:ich bin|ich befinde mich)' || gap ||
				cadence.auto_reply_any(
					'nicht im (?:bu(?:e)?ro|hause?|office)', 'ausser haus', 'abwesend',
					'im urlaub', 'in (?:elternzeit|mutterschutz|urlaub)',
					'auf (?:geschafts|dienst)reise') || now,
				'\mje (?:suis|serai)' || gap ||
				cadence.auto_reply_any(
					'absente?', 'en conges?', 'en vacances', 'en deplacement',
					'(?:en )?(?:dehors|hors) du bureau') || now,
				'\m(?:estoy|estare|me encuentro)' || gap ||
				cadence.auto_reply_any(
					'fuera de (?:la )?oficina', 'de vacaciones', 'ausente', 'de baja',
					'de permiso', 'de viaje') || now,
				'\m(?:estou|estarei|encontro-me|me encontro)' || gap ||
				cadence.auto_reply_any(
					'fora do escritorio', '(?:de|em) ferias', 'ausente', '(?:de|em) licenca') || now,
				'\mik ben' || gap ||
				cadence.auto_reply_any(
					'afwezig', 'niet (?:op kantoor|aanwezig)', '(?:met|op) vakantie',
					'met [a-z]*verlof', 'buiten kantoor') || now,
				'\m(?:sono|saro)' || gap ||
				cadence.auto_reply_any(
					$re$fuori (?:sede|ufficio|dall'ufficio)$re$, 'in ferie', 'assente',
					'in vacanza', 'in congedo', 'in maternita') || now,
				-- limited access to email, in each language
				'\m(?:limited|no|restricted|intermittent|sporadic) access to (?:my )?(?:e ?-?mails?|inbox|messages)',
				'\meingeschrankte?[a-z]* (?:zugriff|erreichbar)',
				'\macces (?:limite|restreint)',
				'\macceso limitado', '\macesso limitado', '\mbeperkt (?:toegang|bereikbaar)',
				'\maccesso limitato',
				-- the message says what it is
				'\m(?:this is an?|ceci est une?|dies ist eine|esta es una|esta e uma|dit is een|questa e una) '
				'(?:automatic|automated|auto[- ]?generated|automatische?|automatique|automatica|automatisch)'
			) AS absence,
			cadence.auto_reply_any(
				$re$\m(?:i will|i'll|ill|i shall) (?:be back|return|be returning|be in the office|be out of (?:the )?office)$re$,
				$re$\m(?:i am|i'm|im) (?:back|returning) (?:on|in|to|from)$re$,
				'\mback in the office (?:on|from)',
				'\mwieder (?:im bu(?:e)?ro|erreichbar|zuruck|zurueck|da)', '\mzuruck am',
				'\mde retour\M', '\mje reviendrai', '\mretour prevu',
				'\m(?:volvere|regresare|estare de vuelta|me reincorporare)\M',
				'\m(?:retornarei|voltarei|estarei de volta)\M',
				'\m(?:ben ik (?:weer|terug)|weer (?:aanwezig|op kantoor|bereikbaar)|terug op)\M',
				'\m(?:rientrero|saro di ritorno|tornero in ufficio|di nuovo in ufficio)\M'
			) AS back,
			cadence.auto_reply_any(
				'\murgen(?:t|te|ce|ti|cia)', '\mdringend',
				'\m(?:in|during) my absence', '\min meiner abwesenheit', '\men mon absence',
				'\m(?:en|durante) mi ausencia', '\m(?:na|durante a) minha ausencia',
				'\m(?:tijdens|in) mijn afwezigheid', '\m(?:durante la|in) mia assenza',
				'\mthank(?:s| you) for your (?:e ?-?mail|message|note|mail)',
				'\mvielen dank fur ihre', '\mmerci (?:pour|de) votre', '\mgracias por su',
				'\mobrigad[oa] pel[ao]', '\mbedankt voor (?:uw|je)', '\mgrazie per',
				'\m(?:upon|on|after) my return', '\mwhen i (?:return|get back|am back)',
				'\mnach meiner (?:ruckkehr|rueckkehr)', '\ma mon retour',
				'\ma mi (?:regreso|vuelta)', '\m(?:no|apos o) meu retorno',
				'\mna mijn terugkeer', '\mal mio (?:rientro|ritorno)'
			) AS cue
		  FROM statement
	)
	SELECT absence, back, cue
	  FROM rules
$$;

-- The headers decide first, then the subject, then the text: what the
-- sending software says of itself beats what a person might have typed.
CREATE OR REPLACE FUNCTION cadence.auto_reply_signal(headers jsonb, subject text, body text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	text_rules record := cadence.auto_reply_text_regexes();
	own_text text := cadence.auto_reply_fold(cadence.auto_reply_own_text(body));
BEGIN
	RETURN coalesce(
		cadence.auto_reply_header_signal(headers),
		CASE WHEN cadence.auto_reply_fold(subject) ~ cadence.auto_reply_subject_regex()
				THEN 'subject'
			 WHEN own_text ~ text_rules.absence
				  OR (own_text ~ text_rules.back AND own_text ~ text_rules.cue)
				THEN 'text'
			 END);
END
$$;
COMMENT ON FUNCTION cadence.auto_reply_signal(jsonb, text, text) IS
	'NULL when an inbound email is a real reply, else what shows it is an automatic one (out of office): auto_submitted (RFC 3834 header), auto_reply_header (X-Autoreply, X-Autorespond, X-Autoreply-From, X-Mail-Autoreply, Precedence: auto_reply), subject ("Automatic reply:", "Out of Office", "Abwesenheitsnotiz", ...) or text ("I am out of the office", "Je suis absent", ...). headers: a JSON object of name -> value or array of values, names in any case. Never raises';

-- The month and weekday names, and the words for today and tomorrow, that
-- auto_reply_return_date reads, folded: English, German, French, Spanish,
-- Portuguese, Dutch, Italian.  n is the month (1-12), the ISO weekday
-- (1 = Monday) or days from today.  Abbreviations that are also common
-- words are left out ("ago" for agosto, "gen" for gennaio).
CREATE OR REPLACE FUNCTION cadence.auto_reply_calendar_words(OUT word text, OUT kind text, OUT n integer)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT DISTINCT w, 'month', m
	  FROM (VALUES
		(1, '{january,jan,januar,janner,janvier,janv,enero,ene,janeiro,januari,gennaio}'),
		(2, '{february,feb,februar,fevrier,fevr,fev,febrero,fevereiro,februari,febbraio}'),
		(3, '{march,mar,marz,maerz,mars,marzo,marco,maart}'),
		(4, '{april,apr,avril,avr,abril,aprile}'),
		(5, '{may,mai,mayo,maio,mei,maggio}'),
		(6, '{june,jun,juni,juin,junio,junho,giugno}'),
		(7, '{july,jul,juli,juillet,juil,julio,julho,luglio}'),
		(8, '{august,aug,aout,agosto,augustus}'),
		(9, '{september,sept,sep,septembre,septiembre,setiembre,setembro,settembre}'),
		(10, '{october,oct,oktober,okt,octobre,octubre,outubro,ottobre}'),
		(11, '{november,nov,novembre,noviembre,novembro}'),
		(12, '{december,dec,dezember,dez,decembre,diciembre,dic,dezembro,dicembre}')
		) AS months(m, words), unnest(words::text[]) AS w
	UNION ALL
	SELECT DISTINCT w, 'weekday', d
	  FROM (VALUES
		(1, '{monday,mon,montag,lundi,lunes,segunda,maandag,lunedi}'),
		(2, '{tuesday,tue,tues,dienstag,mardi,martes,terca,dinsdag,martedi}'),
		(3, '{wednesday,wed,mittwoch,mercredi,miercoles,quarta,woensdag,mercoledi}'),
		(4, '{thursday,thu,thur,thurs,donnerstag,jeudi,jueves,quinta,donderdag,giovedi}'),
		(5, '{friday,fri,freitag,vendredi,viernes,sexta,vrijdag,venerdi}'),
		(6, '{saturday,sat,samstag,sonnabend,samedi,sabado,zaterdag,sabato}'),
		(7, '{sunday,sun,sonntag,dimanche,domingo,zondag,domenica}')
		) AS weekdays(d, words), unnest(words::text[]) AS w
	UNION ALL
	SELECT w, 'relative', d
	  FROM (VALUES
		(0, '{today,heute,hoy,hoje,vandaag,oggi}'),
		(1, '{tomorrow,morgen,demain,manana,amanha,domani}')
		) AS relative(d, words), unnest(words::text[]) AS w
$$;

-- A regular expression, without capturing groups, for the shape of one
-- date as people write it, folded: 2026-12-07, 12/07/2026, 12/7,
-- 07.12.2026, 7.12., December 7th, 2026, Dec. 7, 7 December, 7th of
-- December, 7. Dezember, 7 de diciembre de 2026, 1er décembre, the 7th,
-- each optionally after a weekday ("Monday, December 7"); a weekday alone
-- ("Mon", "next Monday", "el próximo lunes"); today, tomorrow.
--
-- NAME stands for any word: auto_reply_read_date looks it up in
-- auto_reply_calendar_words and reads no date when it is no month, weekday
-- or day word ("back on track").  Spelling out the 160 names here would
-- make the scan three times slower for nothing.  A lone word is not read
-- before "retour", so that French "jusqu'à mon retour" (until my return)
-- is not "until Monday".
CREATE OR REPLACE FUNCTION cadence.auto_reply_date_regex() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT replace(
		'(?:(?:NAME\.?,? (?:the |den |le |el |il |de |op )?)?'
		'(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}'
		'|[0-9]{1,2}[/.][0-9]{1,2}(?:[/.](?:[0-9]{4}|[0-9]{2}))?\.?'
		'|(?:the )?[0-9]{1,2}(?:st|nd|rd|th|er|\.)?(?: of| de| di)? NAME\.?(?:,? (?:de )?[0-9]{4})?'
		'|NAME\.? (?:the )?[0-9]{1,2}(?:st|nd|rd|th)?(?:,? [0-9]{4})?'
		'|the [0-9]{1,2}(?:st|nd|rd|th))(?![0-9])'
		'|(?:next |nachsten |naechsten |kommenden |proximo |proxima |prochain |volgende |prossimo )?NAME\.?(?! retour))',
		'NAME', '[a-z]+\M')
$$;

-- The regular expression auto_reply_return_date scans a folded body with.
-- Each match is a phrase and the date after it, in one of three shapes,
-- whose capturing groups are:
--
--   1 English or 2 other return phrase, 3 the date: the sender is back on
--     that date ("back on", "returning", "in the office from", "de retour
--     le", "wieder erreichbar ab dem", "volveré el", "terug op", ...);
--   4 English or 5 other "until" phrase, 6 the date: the sender is away
--     through that date ("until", "till", "through", "from X to", "bis
--     zum", "jusqu'au", "du 1er au", "hasta el", "até", "tot en met",
--     "fino al", ...);
--   7 the date in German and Dutch word order, before the return: "ab dem
--     7.12. wieder im Büro", "vanaf maandag ben ik weer ...".
CREATE OR REPLACE FUNCTION cadence.auto_reply_return_regex() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH d AS (SELECT cadence.auto_reply_date_regex() AS d)
	SELECT '\m(?:(?:(' ||
		-- 1: English return
		cadence.auto_reply_any(
			'back(?: (?:in|at|to|into) (?:the office|office|work|my desk))?(?: (?:on|from|by|as of|starting|beginning))?',
			'return(?:s|ing)?(?: (?:to|in|into) (?:the office|office|work|my desk))?(?: (?:on|from|by|as of|starting))?',
			'(?:in|into|at) (?:the )?office (?:again )?(?:on|from|as of|starting)',
			'available (?:again )?(?:on|from|as of|starting)') ||
		'(?: the)?)|(' ||
		-- 2: other return
		cadence.auto_reply_any(
			'(?:zuruck|zurueck|wieder (?:im (?:bu(?:e)?ro|office|haus)|erreichbar|verfu(?:e)?gbar|da|anwesend))(?: (?:am|ab|ab dem|zum))?',
			'(?:de retour|retour(?: prevu)?|je reviendrai|je rentre|je serai au bureau)(?: au bureau)?(?: (?:le|des le|a partir du|a partir de|a compter du))?',
			'(?:volvere|regresare|regreso|vuelvo|de vuelta|de regreso|me reincorporare|me incorporare)(?: (?:a la oficina|al trabajo))?(?: (?:el|el dia|a partir del|a partir del dia|desde el))?',
			'(?:retorno|retornarei|voltarei|volto|de volta|regresso|regressarei)(?: (?:ao escritorio|ao trabalho))?(?: (?:em|no dia|dia|a partir de|a partir do dia|a partir do|a partir da|na|no))?',
			'(?:terug(?: op kantoor)?|weer (?:aanwezig|op kantoor|bereikbaar|beschikbaar))(?: (?:op|vanaf|per))?',
			'(?:rientrero|rientro|di ritorno|tornero|di nuovo in ufficio|nuovamente in ufficio)(?: in ufficio)?(?: (?:il|dal|a partire dal|da))?') ||
		')) (' || d || ')|(?:(' ||
		-- 4: English until
		cadence.auto_reply_any(
			'(?:until|till|til|through|thru|up until|up to and including|until and including)(?: the)?',
			'from ' || d || ' (?:to|until|till|through|thru|-)(?: the)?') ||
		')|(' ||
		-- 5: other until
		cadence.auto_reply_any(
			'bis(?: (?:einschliesslich|einschl\.|inklusive|inkl\.|zum|am))*',
			$re$jusqu' ?(?:au|a)$re$,
			'(?:du|del|dal|de) [0-9]{1,2}(?:er)?(?: (?:de )?[a-z]+\.?)? (?:au|al|a)',
			'hasta(?: el)?(?: dia)?',
			'ate(?: (?:o|a|ao))?(?: dia)?',
			'tot(?: en met)?(?: op)?',
			'fino (?:al|a)(?: giorno)?') ||
		')) (' || d || ')|' ||
		-- 7: German and Dutch, the date before the return
		'(?:ab|am|vanaf|per) (?:dem |den )?(' || d || '),? ' ||
		'(?:(?:bin|ben|werde|zal) (?:ich|ik) )?(?:wieder|weer|zuruck|zurueck|terug))'
	  FROM d
$$;

-- The date y-m-d, or NULL when there is no such date (February 30, month
-- 13, a year outside 1-9999).
CREATE OR REPLACE FUNCTION cadence.auto_reply_make_date(y integer, m integer, d integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN NOT (y BETWEEN 1 AND 9999 AND m BETWEEN 1 AND 12 AND d BETWEEN 1 AND 31) THEN NULL
		WHEN d <= extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day')
			THEN make_date(y, m, d)
		END
$$;

-- The date month m, day d, year y, or without a year (y NULL) its next
-- occurrence as seen from ref.  A year-less date that fell within the 30
-- days before ref is read as that recent date, not as next year's: an
-- auto-reply its sender forgot to turn off ("back on November 30"
-- arriving on December 2) is about the past, not about the year to come.
-- NULL when there is no such date.
CREATE OR REPLACE FUNCTION cadence.auto_reply_resolve_date(y integer, m integer, d integer, ref date)
RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN y IS NOT NULL THEN cadence.auto_reply_make_date(y, m, d)
		   ELSE (SELECT min(c)
				   FROM generate_series(-1, 1) AS k,
						cadence.auto_reply_make_date(extract(year FROM ref)::integer + k, m, d) AS c
				  WHERE c >= ref - 30) END
$$;

-- The date named by expr, one match of auto_reply_date_regex, as seen on
-- day ref: a year-less date by auto_reply_resolve_date; "the 7th" the next
-- 7th on or after ref; a weekday the next one after ref; tomorrow ref + 1.
-- A slash date is day/month when day_first, else month/day, unless one
-- part is above 12 (then that part is the day); a dotted date is always
-- day.month.  NULL when the date does not exist.
CREATE OR REPLACE FUNCTION cadence.auto_reply_read_date(expr text, ref date, day_first boolean)
RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p text[];
	y integer;
	m integer;
	d integer;
	result date;
BEGIN
	-- ISO: year, month, day.
	p := regexp_match(expr, '([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})');
	IF p IS NOT NULL THEN
		RETURN cadence.auto_reply_make_date(p[1]::integer, p[2]::integer, p[3]::integer);
	END IF;

	-- Numeric: day.month or month/day, then a year of two or four digits.
	p := regexp_match(expr, '([0-9]{1,2})([/.])([0-9]{1,2})(?:[/.]([0-9]{2,4}))?');
	IF p IS NOT NULL THEN
		y := CASE length(p[4]) WHEN 4 THEN p[4]::integer WHEN 2 THEN 2000 + p[4]::integer END;
		IF p[2] = '.' OR p[1]::integer > 12 OR (day_first AND p[3]::integer <= 12) THEN
			RETURN cadence.auto_reply_resolve_date(y, p[3]::integer, p[1]::integer, ref);
		END IF;
		RETURN cadence.auto_reply_resolve_date(y, p[1]::integer, p[3]::integer, ref);
	END IF;

	-- A month name, after the day ("7 December") or before it ("Dec 7"),
	-- and a year of four digits at the end.
	y := substring(expr FROM '([0-9]{4})\.?$')::integer;
	SELECT c.n, x[1]::integer INTO m, d
	  FROM regexp_matches(expr, '([0-9]{1,2})(?:st|nd|rd|th|er|\.)?(?: of| de| di)? ([a-z]+)', 'g') AS x
	  JOIN cadence.auto_reply_calendar_words() AS c ON c.kind = 'month' AND c.word = x[2]
	 LIMIT 1;
	IF m IS NULL THEN
		SELECT c.n, x[2]::integer INTO m, d
		  FROM regexp_matches(expr, '([a-z]+)\.? (?:the )?([0-9]{1,2})', 'g') AS x
		  JOIN cadence.auto_reply_calendar_words() AS c ON c.kind = 'month' AND c.word = x[1]
		 LIMIT 1;
	END IF;
	IF m IS NOT NULL THEN
		RETURN cadence.auto_reply_resolve_date(y, m, d, ref);
	END IF;

	-- "the 7th": this month's 7th, or the next month's when that is past.
	d := substring(expr FROM '([0-9]{1,2})(?:st|nd|rd|th)')::integer;
	IF d IS NOT NULL THEN
		RETURN (SELECT min(c)
				  FROM generate_series(0, 2) AS k,
					   LATERAL (SELECT (date_trunc('month', ref::timestamp) + k * interval '1 month')::date AS first) AS f,
					   cadence.auto_reply_make_date(extract(year FROM f.first)::integer,
													extract(month FROM f.first)::integer, d) AS c
				 WHERE c >= ref);
	END IF;

	-- today, tomorrow; a weekday, the next one after ref.
	SELECT CASE c.kind WHEN 'relative' THEN ref + c.n
			   ELSE ref + (c.n - extract(isodow FROM ref)::integer + 6) % 7 + 1 END
	  INTO result
	  FROM regexp_matches(expr, '[a-z]+', 'g') AS x
	  JOIN cadence.auto_reply_calendar_words() AS c ON c.kind IN ('relative', 'weekday') AND c.word = x[1]
	 LIMIT 1;
	RETURN result;
END
$$;

-- The local date at which received_at falls in time zone tz (UTC when
-- NULL), or NULL when tz is not a time zone or the date is outside years
-- 2-9998.  Catching the error needs a subtransaction, which parallel
-- workers cannot start: hence PARALLEL UNSAFE, here and in its caller.
-- (Looking tz up in pg_timezone_names instead costs some 40 ms a call.)
CREATE OR REPLACE FUNCTION cadence.auto_reply_local_date(received_at timestamptz, tz text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	local date;
BEGIN
	BEGIN
		local := (received_at AT TIME ZONE coalesce(tz, 'UTC'))::date;
	EXCEPTION WHEN data_exception THEN
		RETURN NULL;
	END;
	RETURN CASE WHEN local BETWEEN date '0002-01-01' AND date '9998-12-31' THEN local END;
END
$$;

CREATE OR REPLACE FUNCTION cadence.auto_reply_return_date(body text, received_at timestamptz,
											   tz text DEFAULT 'UTC')
RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text := cadence.auto_reply_fold(cadence.auto_reply_own_text(body));
	-- The reference date: the local date the message arrived.
	ref date := cadence.auto_reply_local_date(received_at, tz);
	day_first_seen boolean;
	month_first_seen boolean;
	day_first boolean;
	m text[];
	back date;
BEGIN
	IF ref IS NULL OR t = '' THEN
		RETURN NULL;
	END IF;

	-- Slash dates: a part above 12 anywhere in the text says which order
	-- the sender writes (28/11 is day/month, 11/28 month/day).  Without
	-- such a clue they are month/day after an English phrase (US usage)
	-- and day/month after any other.
	SELECT bool_or(x[1]::integer > 12 AND x[2]::integer <= 12),
		   bool_or(x[2]::integer > 12 AND x[1]::integer <= 12)
	  INTO day_first_seen, month_first_seen
	  FROM regexp_matches(t, '(?:^|[^0-9/])([0-9]{1,2})/([0-9]{1,2})(?![0-9])', 'g') AS x;

	-- The phrases in text order; the first that names a date within the
	-- coming 366 days wins.  "Until X" means back on the day after X.
	FOR m IN SELECT x FROM regexp_matches(t, cadence.auto_reply_return_regex(), 'g') AS x LOOP
		day_first := CASE WHEN day_first_seen AND NOT month_first_seen THEN true
						  WHEN month_first_seen AND NOT day_first_seen THEN false
						  ELSE m[1] IS NULL AND m[4] IS NULL END;
		back := CASE WHEN m[3] IS NOT NULL THEN cadence.auto_reply_read_date(m[3], ref, day_first)
					 WHEN m[6] IS NOT NULL THEN cadence.auto_reply_read_date(m[6], ref, day_first) + 1
					 ELSE cadence.auto_reply_read_date(m[7], ref, day_first) END;
		IF back BETWEEN ref AND ref + 366 THEN
			RETURN back;
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION cadence.auto_reply_return_date(text, timestamptz, text) IS
	'The first day the sender of an auto-reply says they are back ("back on Monday", "returning December 7th", "until 12/6/2026" = the day after, "bis 6.12.", "jusqu''au 6 décembre"), read relative to the local date in tz on which it was received_at; NULL when no such date can be read, it does not exist, is in the past or more than 366 days ahead, or tz is not a time zone. Slash dates are month/day unless a part above 12 or a non-English phrase says otherwise. Never raises';
