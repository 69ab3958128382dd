cmd-start = Начать и войти
cmd-help = Что умеет бот
cmd-me = Мой профиль
cmd-invite = Мой код, ссылка и QR
cmd-redeem = Ввести код друга
cmd-referrals = Кто пришёл по моему коду
cmd-forget-me = Удалить мои личные данные
