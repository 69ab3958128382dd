lang-name = 🇬🇧 English
lang-choose = Choose your language:
lang-set = Done: I'll speak English with you.
lang-unknown = I don't speak that language yet.
cmd-lang = Change the language
cmd-timezone = My time zone
timezone-current = 🕒 Times are shown for <b>{ $zone }</b>, where it is { $time } now. Pick another zone below, or send <code>/timezone</code> and a city, e.g. <code>/timezone London</code>.
timezone-found = { $count ->
    [one] One time zone matches
   *[other] { $count } time zones match
}. Press yours:
timezone-set = ✅ Done: times are now shown for <b>{ $zone }</b>, where it is { $time } now.
timezone-unknown = I found no city called “{ $query }”. Try a larger city nearby with the same time, e.g. <code>/timezone Moscow</code>.
