lang-name = 🇷🇺 Русский
lang-choose = Выберите язык:
lang-set = Готово: теперь я говорю с вами по-русски.
lang-unknown = Этот язык я пока не знаю.
cmd-lang = Сменить язык
