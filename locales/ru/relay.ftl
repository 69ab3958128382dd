relay-btn-dm = 💬 Ответить лично
relay-btn-dm-name = 💬 { $name }
relay-btn-block = 🚫 Заблокировать
relay-btn-report = ⚠️ Пожаловаться
relay-btn-common = 💬 Общий чат
relay-btn-join-yes = ✅ Войти в общий чат
relay-btn-join-no = Не сейчас
relay-btn-cancel = ✖ Отменить { $n }
relay-placeholder-private = Лично: { $name }
relay-join-ask = Хотите войти в общий чат? Всё, что там пишут участники, получают все.
relay-join-later = Хорошо. Отправьте /join, когда захотите.
relay-media-photo = [фото]
relay-media-video = [видео]
relay-media-voice = [голосовое сообщение]
relay-media-audio = [аудио]
relay-media-document = [файл]
relay-media-sticker = [стикер]
relay-media-animation = [GIF]
relay-media-video_note = [видеосообщение]
relay-media-location = [геопозиция]
relay-media-venue = [место]
relay-media-poll = [опрос]
relay-media-dice = [кубик]
relay-line = <b>{ $name }</b> { $time }:
relay-joined = ✅ Вы в общем чате. Всё, что вы отправите сюда, получат все участники; /leave — выйти.
relay-history = <b>{ $count ->
    [1] Последнее сообщение:
    [one] Последние { $count } сообщение:
    [few] Последние { $count } сообщения:
   *[many] Последние { $count } сообщений:
}</b>
relay-left = Вы вышли из общего чата. /join — вернуться.
relay-nick-usage = Ваше имя в чате — <b>{ $name }</b>. Сменить: <code>/nick Новое имя</code> (3–32 буквы, цифры, пробелы, . _ -).
relay-nick-set = Готово: теперь ваше имя в чате — <b>{ $name }</b>.
relay-paused = ⏸ Пауза: сообщения ждут вас в /unread. /resume — снова получать сразу.
relay-resumed = ▶️ Доставка снова включена. Пропущенное — в /unread.
relay-unread-common = <b>Общий чат — непрочитанных: { $count }</b>
relay-unread-private = <b>Личный чат: { $name } — непрочитанных: { $count }</b>
relay-unread-none = Непрочитанных нет.
relay-unread-more = Ещё непрочитанных: { $count }. Кнопка ниже покажет их.
relay-btn-unread-more = 📬 Показать ещё
relay-target-common = общий чат
relay-target-private = { $name } (лично)
relay-status =
    <b>Статус</b>
    Ваше время: { $now }, { $zone } (/timezone)
    Участников в общем чате: { $members }
    Вы: { $common ->
        [1] в общем чате
       *[0] не в общем чате
    }{ $paused ->
        [1] , на паузе
       *[0] {""}
    }
    Куда пишете: { $target }
    Сообщений за период: { $used } из { $limit }; лимит обновится { $reset }
    Предупреждений: { $warnings }
    { $has_ban ->
        [1] Блокировка: писать снова можно { $banned }
       *[0] Блокировки нет
    }
relay-who = <b>Недавно были здесь ({ $count }):</b> нажмите на имя, чтобы написать лично.
relay-who-none = В последние минуты здесь никого не было.
relay-now-common = 💬 Вы пишете в общий чат.
relay-now-private = 🔒 Личный чат. Собеседник: <b>{ $name }</b>; кроме вас двоих, эти сообщения никто не увидит. /common — вернуться.
relay-dm-usage = Кому написать? <code>/dm Имя</code> (см. /who) или кнопка «Ответить лично» под сообщением.
relay-block-usage = Ответьте на сообщение командой /block или отправьте <code>/block Имя</code>.
relay-blocked = { $name } больше не может писать вам лично. /unblock { $name } — отменить.
relay-unblock-usage = <code>/unblock Имя</code>
relay-unblocked = { $name } снова может писать вам лично.
relay-delete-usage = Ответьте на своё сообщение командой /delete, чтобы удалить его у всех.
relay-deleted = 🗑 Удалено у всех: { $count } { $count ->
    [one] копия
    [few] копии
   *[many] копий
}.
relay-schedule-usage = <code>/schedule 18:30 текст</code> (по вашему времени, см. /timezone) или <code>/schedule через 10 мин текст</code> (можно и <code>через 2 часа</code>, <code>через 1 день</code>).
relay-scheduled-ok = ⏰ Запланировано на { $when }. Все запланированные: /scheduled.
relay-scheduled-none = У вас нет запланированных сообщений.
relay-scheduled-title = <b>Ваши запланированные сообщения ({ $count }):</b>
relay-scheduled-cancelled = Отменено.
relay-scheduled-left = Отменено. Ещё запланировано: { $count } (/scheduled).
relay-setlimit-usage = Сейчас: { $limit } { $limit ->
    [one] сообщение
    [few] сообщения
   *[many] сообщений
} за { $minutes } { $minutes ->
    [one] минуту
    [few] минуты
   *[many] минут
}. Изменить: <code>/setlimit 30</code> или <code>/setlimit 30 60</code> (за 60 минут).
relay-setlimit-done = Теперь лимит для всех — { $limit } { $limit ->
    [one] сообщение
    [few] сообщения
   *[many] сообщений
} за { $minutes } { $minutes ->
    [one] минуту
    [few] минуты
   *[many] минут
}.
relay-nobody = В общем чате пока никого нет — пригласите друзей: /invite!
relay-peer-unreachable = Собеседник сейчас не может получать сообщения.
relay-not-member = Вы не в общем чате. Отправьте /join, чтобы войти.
relay-already-member = Вы уже в общем чате.
relay-limit-reached = ⏳ Вы отправили { $count } из { $limit } { $limit ->
    [one] сообщения
   *[other] сообщений
} за этот период. Лимит обновится { $reset }.
relay-file-too-large = Файл слишком большой: ограничение — { $limit_mb } МБ.
relay-unsupported = Такие сообщения я пересылать не умею.
relay-nick-invalid = Имя — это 3–32 буквы, цифры, пробелы или . _ - и начинается с буквы или цифры.
relay-nick-taken = Имя { $name } занято; выберите другое.
relay-member-not-found = Участник «{ $name }» не найден. См. /who.
relay-dm-self = Это же вы!
relay-dm-blocked = { $name } не принимает от вас личные сообщения.
relay-delete-not-yours = Удалять можно только свои сообщения: ответьте на одно из них командой /delete.
relay-delete-too-old = Telegram позволяет удалять только сообщения младше 48 часов.
relay-message-gone = Это сообщение больше недоступно.
relay-schedule-invalid = Не понял время. Примеры: <code>/schedule 18:30 Привет</code>, <code>/schedule через 10 мин Привет</code>, <code>/schedule через 2 часа Привет</code>.
relay-scheduled-not-found = Это сообщение уже отправлено или отменено.
relay-schedule-too-long = Это слишком длинно для отложенной отправки: вместе с вашим именем выходит { $length } { $length ->
    [one] символ
    [few] символа
   *[many] символов
}, а Telegram принимает не больше { $limit } (&lt; &gt; и &amp; считаются за несколько). Пожалуйста, немного сократите текст.
relay-schedule-full = У вас уже { $limit } { $limit ->
    [one] запланированное сообщение
    [few] запланированных сообщения
   *[many] запланированных сообщений
} — больше нельзя. Отмените какое-нибудь в /scheduled или дождитесь, пока одно из них уйдёт.
relay-scheduled-dropped-common = ⏰ Запланированное сообщение «{ $excerpt }» не отправлено: вы больше не в общем чате. Чтобы вернуться, отправьте /join.
relay-scheduled-dropped-private = ⏰ Запланированное сообщение «{ $excerpt }» не отправлено: { $name } больше не принимает от вас личные сообщения.
relay-scheduled-dropped-peer = ⏰ Запланированное сообщение «{ $excerpt }» не отправлено: того, кому оно предназначалось, здесь больше нет.
relay-scheduled-dropped-room = ⏰ Запланированное сообщение «{ $excerpt }» не отправлено: вы больше не в комнате, для которой оно было (или комнату закрыли).
relay-scheduled-dropped-banned = ⏰ Запланированное сообщение «{ $excerpt }» не отправлено: вы заблокированы, писать снова можно будет { $until }.
relay-setlimit-invalid = Укажите число сообщений (1–100000) и, если нужно, минуты (1–10080), например <code>/setlimit 30 60</code>.
cmd-join = Войти в общий чат
cmd-leave = Выйти из общего чата
cmd-nick = Моё имя в чате
cmd-dm = Написать участнику лично
cmd-common = Вернуться в общий чат
cmd-block = Запретить кому-то писать мне лично
cmd-unblock = Разблокировать
cmd-delete = Удалить моё сообщение (ответом)
cmd-pause = Пауза доставки
cmd-resume = Возобновить доставку
cmd-unread = Пропущенные сообщения
cmd-status = Время, чаты, мой лимит и предупреждения
cmd-who = Кто здесь
cmd-schedule = Отправить сообщение позже
cmd-scheduled = Мои запланированные сообщения
cmd-setlimit = Лимит сообщений (админы)
