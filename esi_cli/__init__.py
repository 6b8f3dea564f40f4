"""The `esi` command line: log in, manage tokens, call any ESI operation, generate the client,
diff specs, clean up and run the fake ESI."""
