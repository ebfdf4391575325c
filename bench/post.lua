-- wrk: POST a Twilio-shaped form body (bench/dispatch, the HTTP bound).
wrk.method = "POST"
wrk.body = "To=%2B14155550101&From=%2B15005550006&Body=Hi%20Ana"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
