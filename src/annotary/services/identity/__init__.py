"""Who is who and who may do what: access rules, logins and tokens, users, members."""
