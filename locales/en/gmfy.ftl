gmfy-disabled = Gamification is not enabled in this bot.
gmfy-unavailable = Achievements are not available right now. Please try again in a few minutes.
gmfy-not-found = Nothing found for “{ $id }”. Check the id.
gmfy-no-default = No default leaderboard is set up. Add its id after the command, e.g. <code>/top ID</code>.
gmfy-someone = someone
gmfy-profile-title = <b>🏆 Your achievements</b>
gmfy-profile-ratings = <b>Ratings</b>
gmfy-profile-rating-line = • { $name }: { $value } — place { $place }
gmfy-profile-rating-line-unranked = • { $name }: { $value }
gmfy-profile-challenges = <b>Challenges</b>
gmfy-profile-challenge-line = • { $name }: { $progress }% ({ $steps } { $steps ->
    [one] step
   *[other] steps
} done)
gmfy-profile-badges = <b>Badges</b>
gmfy-profile-badge-line = • { $name } ×{ $count }
gmfy-profile-balances = <b>Balances</b>
gmfy-profile-balance-line = • { $resource }: { $amount }
gmfy-profile-empty = No achievements yet — take part in the community and they will come!
gmfy-top-title = <b>🏅 { $name }</b> — page { $page }
gmfy-top-line = { $place }. { $name } — { $value }
gmfy-top-line-mine = <b>▶ { $place }. { $name } — { $value } (you)</b>
gmfy-top-empty = Nobody is on this leaderboard yet.
gmfy-top-my-place = Your place: <b>{ $place }</b> ({ $value })
gmfy-top-not-ranked = You are not on this leaderboard yet.
gmfy-btn-prev = ◀ Back
gmfy-btn-next = Next ▶
gmfy-challenge-title = <b>🎯 { $name }</b>
gmfy-challenge-line = { $place }. { $name } — { $progress }%
gmfy-challenge-line-mine = <b>▶ { $place }. { $name } — { $progress }% (you)</b>
gmfy-challenge-empty = Nobody has progress in this challenge yet.
gmfy-challenge-mine = Your progress: <b>{ $progress }%</b>, { $steps } { $steps ->
    [one] step
   *[other] steps
} done
gmfy-challenge-not-joined = You have no progress in this challenge yet.
gmfy-notification = 🔔 { $message }
gmfy-admin-title = <b>GMFY status</b>
gmfy-admin-version = API version: { $version }
gmfy-admin-version-error = API unreachable: { $error }
gmfy-admin-outbox = Outbox: { $pending } pending, { $failed } failed; oldest pending: { $oldest }
gmfy-admin-last-error = Last error ({ $when }): { $error }
gmfy-admin-no-error = No errors so far.
cmd-profile = My achievements, ratings and badges
cmd-top = Leaderboard
cmd-challenge = Challenge progress
