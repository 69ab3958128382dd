lang-name = 🇷🇺 Русский
lang-choose = Выберите язык:
lang-set = Готово: теперь я говорю с вами по-русски.
lang-unknown = Этот язык я пока не знаю.
cmd-lang = Сменить язык
cmd-timezone = Мой часовой пояс
timezone-current = 🕒 Время показываю по поясу <b>{ $zone }</b>, там сейчас { $time }. Выберите другой пояс ниже или отправьте <code>/timezone</code> с названием города, например <code>/timezone Новосибирск</code>.
timezone-found = { $count ->
    [one] Подходит { $count } часовой пояс
    [few] Подходят { $count } часовых пояса
   *[many] Подходят { $count } часовых поясов
}. Выберите свой:
timezone-set = ✅ Готово: теперь время показываю по поясу <b>{ $zone }</b>, там сейчас { $time }.
timezone-unknown = Город «{ $query }» не найден. Попробуйте крупный город поблизости с тем же временем, например <code>/timezone Москва</code>.
