lang-name = 🇬🇧 English
lang-choose = Choose your language:
lang-set = Done: I'll speak English with you.
lang-unknown = I don't speak that language yet.
cmd-lang = Change the language
