-- wrk script: the URL's request with env METHOD (default GET) and a fixed JSON BODY, if any.
wrk.method = os.getenv("METHOD") or "GET"
wrk.body = os.getenv("BODY")
if wrk.body then
  wrk.headers["Content-Type"] = "application/json"
end
dofile("first_error.lua")
