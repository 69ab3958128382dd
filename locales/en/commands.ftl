cmd-start = Start and sign in
cmd-help = What the bot can do
cmd-me = My profile
cmd-invite = My invite code, link and QR
cmd-redeem = Use a friend's invite code
cmd-referrals = Who joined with my code
cmd-forget-me = Delete my personal data
