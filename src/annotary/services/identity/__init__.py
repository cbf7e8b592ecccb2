"""Who is who and who may do what: access rules, logins and tokens, users, members,
accounts, self-reported attributes, calibration rounds and one's own statistics."""
