-- Shared by the wrk scripts. With env SAMPLE_ERRORS set (a short extra run after a measured run
-- that had errors, never the measured run itself), each thread prints its first error answer.
if os.getenv("SAMPLE_ERRORS") then
  local seen = false
  function response(status, headers, body)
    if status >= 300 and not seen then
      seen = true
      local text = body:sub(1, 300):gsub("%s+", " ")
      io.write(string.format("FIRST_ERROR HTTP %d: %s\n", status, text))
    end
  end
end
