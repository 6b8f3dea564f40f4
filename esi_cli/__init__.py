"""The `esi` command line: generate the client, diff specs, and (later) log in and call ESI."""
