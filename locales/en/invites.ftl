invite-card =
    🎟 Your invite code: <code>{ $code }</code>
    Link: { $link }
    Valid until { $expires }
invite-none = You have no active invite code. Press “New code” to get one.
invite-btn-share = 📤 Share
invite-btn-qr = 🔳 QR
invite-btn-new = 🔄 New code
invite-btn-delete = 🗑 Delete code
invite-share-text = Join me in the community chat!
invite-new-done = New code issued; the old one no longer works.
invite-deleted = Code deleted.
invite-qr-caption = QR for code <code>{ $code }</code>: { $link }
invite-button-stale = This button is out of date: the code has already been changed. Send /invite for the current one.
invite-redeem-usage = Send the code after the command, e.g. <code>/redeem Qz3Isl</code>.
invite-redeemed = 🎉 Code accepted: you were invited by <b>{ $inviter }</b>.
invite-inviter-notice = 🎉 <b>{ $name }</b> joined with your invite code!
invite-unknown = There is no invite code “{ $code }”. Check the spelling: codes are 6 letters and digits, case matters.
invite-expired = That invite code has expired. Ask your friend for a fresh one.
invite-inactive = That invite code is no longer active: its owner replaced or deleted it.
invite-own = That is your own invite code — share it with friends instead.
invite-already-redeemed = You have already used an invite code; only one is allowed.
invite-cycle = You can't use this code: its owner joined through you.
referrals-empty = Nobody has joined with your code yet. Share it with /invite.
referrals-title = <b>Joined with your code: { $total }</b> (page { $page }/{ $pages })
referrals-line = • { $name } — { $phone } — { $date }
admin-code = { $user } (#{ $id }): code <code>{ $code }</code>, valid until { $expires }
admin-invited-by = { $user } (#{ $id }) was invited by { $inviter } (#{ $inviter_id }).
admin-invited-by-nobody = { $user } (#{ $id }) joined without an invite code.
