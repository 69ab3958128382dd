## Веб-панель для модераторов и админов (SPEC 10)

cmd-panel = Веб-панель: ссылка для входа (/panel logout — выйти)
panel-link = 🔐 Ссылка для входа в панель. Она сработает один раз и только в течение { $minutes } { $minutes ->
        [one] минуты
       *[other] минут
    }; никому её не пересылайте:
    { $url }
    Выйти на всех устройствах: <code>/panel logout</code>
panel-logged-out = { $count ->
    [0] Открытых сессий в панели не было.
    [one] Вы вышли из панели ({ $count } сессия).
    [few] Вы вышли из панели ({ $count } сессии).
   *[other] Вы вышли из панели ({ $count } сессий).
}
panel-off = Веб-панель у этого бота выключена (PANEL_ENABLED, WEB_PORT).
panel-link-invalid = Эта ссылка для входа не действует: ею уже воспользовались, её срок истёк или её выдали не мы. Отправьте боту /panel, чтобы получить новую.
panel-signed-out = Отправьте боту в Telegram команду /panel — он пришлёт ссылку для входа.
panel-forbidden = Вашей роли это не разрешено. Ничего не изменилось.
panel-staff-only = Панель — только для модераторов и админов.

panel-brand = Панель сообщества
panel-title = Панель модераторов
panel-login-title = Вход в панель модераторов
panel-login-text = Вы открыли одноразовую ссылку для входа от бота. Нажмите кнопку, чтобы войти на этом устройстве; сессия продлится 12 часов.
panel-login-button = Войти
panel-signed-out-title = Вы не вошли
panel-open-again = Открыть панель
panel-error-title = Не получилось
panel-sign-out = Выйти
panel-role-admin = админ
panel-role-moderator = модератор
panel-role-member = участник

panel-nav-overview = Обзор
panel-nav-complaints = Жалобы
panel-nav-members = Участники
panel-nav-audit = Журнал
panel-nav-broadcast = Рассылка
panel-nav-settings = Настройки

panel-fig-members = участников
panel-fig-active-today = активны сегодня
panel-fig-active-week = активны за неделю
panel-fig-bans = действующих банов
panel-fig-open-reports = открытых жалоб
panel-chart-messages = Сообщения по часам за 7 дней ({ $total })
panel-chart-signups = Регистрации по дням за 30 дней ({ $total })
panel-chart-invites = Приглашения по дням за 30 дней ({ $total })
panel-chart-reports = Жалобы по дням за 30 дней ({ $total })
panel-live-title = Доставка сейчас
panel-live-queue = сообщений в очереди
panel-live-rate = отправок в секунду
panel-live-oldest = с ждёт самое старое
panel-live-429 = ответов 429 за последний час
panel-live-gmfy = событий GMFY ещё не отправлено

panel-complaints-title = Открытых жалоб: { $total }
panel-complaints-empty = Открытых жалоб нет. 🎉
panel-complaint-about = На
panel-complaint-by = пожаловался
panel-complaint-reporters = { $count ->
    [one] жалуется { $count } участник
    [few] жалуются { $count } участника
   *[other] жалуются { $count } участников
}
panel-message-deleted = Сообщение удалено у всех.
panel-message-media = [{ $kind } без подписи]
panel-history = Предупреждений: { $warnings } из { $max } (всего { $total }), жалоб: { $reports }, банов: { $bans }
panel-banned-until = Забанен до { $until }
panel-not-banned = Не забанен.
panel-ban-duration = Срок бана
panel-ban-default = по умолчанию ({ $duration })
panel-reason = Причина (необязательно)
panel-btn-warn = Предупредить
panel-btn-ban = Забанить
panel-btn-unban = Снять бан
panel-btn-dismiss = Отклонить
panel-btn-delete = Удалить сообщение у всех
panel-btn-mod = Сделать модератором
panel-btn-unmod = Снять права модератора
panel-done-warn = Предупреждение вынесено.
panel-done-ban = Забанен.
panel-done-unban = Бан снят.
panel-done-dismiss = Жалоба отклонена.
panel-done-delete = Сообщение удалено у всех.
panel-done-mod = Теперь модератор.
panel-done-unmod = Больше не модератор.

panel-search = Найти
panel-search-hint = Ник, #id, Telegram id, @username или код приглашения
panel-search-hint-admin = Ник, #id, Telegram id, @username, код приглашения или +телефон
panel-search-none = Никого не нашли.
panel-col-name = Имя
panel-col-username = Имя пользователя
panel-col-phone = Телефон
panel-col-joined = Зарегистрирован
panel-col-seen = Был в сети
panel-col-code = Код приглашения
panel-col-chats = Чаты
panel-col-role = Роль
panel-col-time = Время (UTC)
panel-col-details = Подробности
panel-chats = { $common ->
    [1] в общем чате
   *[other] не в общем чате
}, комнат: { $rooms }, сообщений: { $messages }
panel-profile = Профиль
panel-moderation = Модерация
panel-invites = Кто пригласил и кого пригласил
panel-invited-by-nobody = пришёл без приглашения
panel-more = …и ещё { $count }
panel-warnings-bans = Баны и предупреждения
panel-ban = бан
panel-warning = предупреждение
panel-revoked = отозвано

panel-gmfy-loading = спрашиваем GMFY…
panel-gmfy-nothing = Пока нет ни рейтингов, ни баллов.
panel-gmfy-rating = { $name }: { $value }, место { $place }
panel-gmfy-rating-unranked = { $name }: { $value }
panel-gmfy-balance = { $resource }: { $amount }
panel-gmfy-badges = { $count ->
    [one] { $count } значок
    [few] { $count } значка
   *[many] { $count } значков
}

panel-audit-title = Журнал действий: { $total }
panel-audit-actor = Кто (#id)
panel-audit-action = Действие
panel-audit-target = С кем (#id)
panel-audit-any = любое
panel-audit-filter = Показать
panel-audit-csv = Выгрузить CSV
panel-audit-bot = бот

panel-broadcast-text = Сообщение (HTML Telegram: <b>, <i>, <u>, <s>, <a href>, <code>, <pre>, <blockquote>, <tg-spoiler>)
panel-broadcast-audience = Кому
panel-audience-all = Всем зарегистрированным
panel-audience-common = Участникам общего чата
panel-audience-room = Комнате «{ $title }»
panel-broadcast-preview = Как это увидят
panel-broadcast-audience-size = { $count ->
    [one] Получит { $count } участник.
    [few] Получат { $count } участника.
   *[other] Получат { $count } участников.
}
panel-broadcast-html-warning = Telegram не примет этот текст: проверьте { $tag }.
panel-broadcast-send = Отправить
panel-broadcast-recent = Недавние рассылки
panel-broadcast-cancel = Остановить рассылку
panel-broadcast-status-draft = Черновик.
panel-broadcast-status-sending = Идёт отправка…
panel-broadcast-status-done = Готово.
panel-broadcast-status-cancelled = Остановлена.
panel-broadcast-counts = Доставлено { $delivered }, заблокировали бота { $blocked }, ошибок { $failed }, отменено { $cancelled } — из { $total }

panel-settings-limit = Сообщений за период (для всех)
panel-settings-limit-now = Сейчас: { $limit } { $limit ->
    [one] сообщение
    [few] сообщения
   *[many] сообщений
} за { $minutes } { $minutes ->
    [one] минуту
    [few] минуты
   *[many] минут
}.
panel-settings-messages = Сообщений
panel-settings-minutes = за минут
panel-settings-save = Сохранить
panel-settings-saved = Сохранено. Новый лимит действует с этой минуты.
panel-settings-admins-only = Лимиты меняют только админы.
