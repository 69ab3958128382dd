## Жалобы и баны (SPEC 6)

cmd-report = Пожаловаться (ответом на сообщение)
cmd-ban = Бан: /ban участник [30 мин|4ч|2д] [причина]
cmd-unban = Снять бан
cmd-warn = Вынести предупреждение
cmd-complaints = Открытые жалобы
cmd-user = Карточка участника
cmd-stats = Статистика
cmd-audit = Журнал модерации
cmd-mod = Назначить модератора
cmd-unmod = Снять права модератора
cmd-code = Код приглашения участника
cmd-whoinvited = Кто пригласил участника

# Тот, кто жалуется
report-usage = Ответьте <code>/report</code> на сообщение участника, чтобы пожаловаться, или отправьте <code>/report @username</code>.
report-choose-reason = На что жалуетесь? Модераторы увидят сообщение; участник не узнает, кто пожаловался.
report-reason-spam = 🗑 Спам
report-reason-abuse = 🤬 Оскорбления
report-reason-other = ❓ Другое
report-reason-cancel = Отмена
report-accepted = Спасибо — жалоба передана модераторам.
report-cancelled = Жалоба отменена.
report-member-unknown = Участник «{ $ref }» не найден. Ответьте <code>/report</code> на сообщение участника, нажмите ⚠️ под ним или отправьте <code>/report @username</code> либо ник в чате.

# Тот, на кого пожаловались (никогда не узнаёт, кто именно)
moderation-warned-report = ⚠️ На ваше сообщение пожаловались ({ $reason ->
    [spam] спам
    [abuse] оскорбления
   *[other] другое
}). Это предупреждение { $count } из { $max }; после { $max } вы на время не сможете писать.
moderation-warned = ⚠️ Модератор вынес вам предупреждение{ $has_reason ->
    [0] {""}
   *[other] : { $reason }
}. Это предупреждение { $count } из { $max }; после { $max } вы на время не сможете писать.
moderation-banned-auto = ⛔ У вас слишком много предупреждений. Писать снова можно будет { $until }.
moderation-banned = ⛔ Вы заблокированы модератором. Писать снова можно будет { $until }. Причина: { $reason }.
moderation-unbanned = ✅ Модератор снял с вас бан. Вы снова можете писать.
moderation-ban-over = ✅ Бан закончился. Вы снова можете писать.

# Отказы
moderation-you-are-banned = Вы заблокированы. Писать снова можно будет { $until }.
moderation-report-self = Нельзя пожаловаться на себя.
moderation-report-duplicate = Вы уже жаловались на этого участника за последние 24 часа. Снова пожаловаться можно будет через { $hours } { $hours ->
    [one] час
    [few] часа
   *[many] часов
}.
moderation-report-reason-unknown = Выберите причину: спам, оскорбления или другое.
moderation-not-relayed = Это не сообщение участника (или оно уже недоступно). Ответьте на сообщение из чата.
moderation-report-not-found = Такой жалобы больше нет.
moderation-report-handled = Эта жалоба уже рассмотрена ({ $status ->
    [confirmed] подтверждена
    [dismissed] отклонена
   *[other] { $status }
}, { $by }). Ничего не изменилось.
moderation-cannot-moderate = Это действие нельзя применить к этому участнику (к себе или к администратору).
moderation-already-banned = Участник уже заблокирован, бан снимется { $until }. Ничего не изменилось.
moderation-not-banned = Участник не заблокирован. Ничего не изменилось.
moderation-invalid-duration = «{ $value }» — это не срок. Примеры: 30 мин, 4ч, 2 дня, 1 неделя (английские 30m, 4h, 2d тоже подойдут).
moderation-already-moderator = { $name } уже модератор (или администратор).
moderation-not-moderator = { $name } не модератор.
moderation-nothing-to-delete = В этой жалобе нет сообщения, которое можно удалить.
moderation-delete-unavailable = Удаление сообщений пока недоступно.
moderation-message-already-deleted = Это сообщение уже удалено. Ничего не изменилось.
moderation-card-outdated = Карточка устарела (кто-то уже принял меры). Ничего не изменилось; откройте /user заново.

# Карточки жалоб (чат админов, /complaints)
report-card =
    🚩 <b>Жалоба #{ $id }</b> · { $reason }
    На кого: <b>{ $target }</b> (#{ $target_id })
    От кого: { $reporter } (#{ $reporter_id })
    Когда: { $date }
report-card-excerpt = Сообщение: <i>{ $excerpt }</i>
report-card-warnings = Действующих предупреждений: { $count }
report-card-auto-ban = ⛔ Автоматический бан, снимется { $until }
report-card-handled = { $status ->
    [confirmed] ✅ Подтверждена
    [dismissed] ✖️ Отклонена
   *[other] { $status }
}: { $by }
report-card-deleted = 🗑 Сообщение удалено у всех.
report-btn-ban = ⛔ Бан
report-btn-warn = ⚠️ Предупредить
report-btn-dismiss = ✖️ Отклонить
report-btn-del = 🗑 Удалить сообщение
report-done-ban = ⛔ Бан выдан: { $name }.
report-done-warn = ⚠️ Предупреждение вынесено: { $name }.
report-done-dismiss = Жалоба отклонена.
report-done-del = Сообщение удалено у всех.

# Команды администраторов
admin-ban-usage = Как использовать: /ban &lt;участник&gt; [30 мин | 4ч | 2д] [причина] — или ответьте /ban на сообщение участника.
admin-banned = ⛔ Бан выдан: { $name } (#{ $id }), на { $duration }; снимется { $until }.
admin-unbanned = ✅ Бан снят: { $name } (#{ $id }).
admin-warned = ⚠️ Предупреждение вынесено: { $name } (#{ $id }), { $count } из { $max }.
admin-warned-banned = ⚠️ Предупреждение вынесено: { $name } (#{ $id }), и это бан; снимется { $until }.
admin-complaints-empty = Открытых жалоб нет. 🎉
admin-complaints-title = <b>Открытые жалобы: { $total }</b> (страница { $page }/{ $pages })
admin-complaints-line = #{ $id } · { $target } (#{ $target_id }) · { $reason } · { $date }
admin-user-card =
    👤 <b>{ $name }</b> (#{ $id })
    Telegram: { $telegram_id } · { $username }
    Телефон: { $phone }
    Роль: { $role }
    Предупреждения: { $warnings } из { $max } (всего { $warnings_total })
    Жалоб на участника: { $reports } · Банов: { $bans }
    Бан снимется: { $ban }
admin-role-admin = администратор
admin-role-moderator = модератор
admin-role-member = участник
admin-btn-ban = ⛔ Бан
admin-btn-unban = ✅ Снять бан
admin-btn-warn = ⚠️ Предупредить
admin-btn-mod = 🛡 Сделать модератором
admin-btn-unmod = Снять модератора
admin-done-ban = ⛔ Бан выдан: { $name }.
admin-done-unban = ✅ Бан снят: { $name }.
admin-done-warn = ⚠️ Предупреждение вынесено: { $name }.
admin-done-mod = 🛡 Назначен модератор: { $name }.
admin-done-unmod = Права модератора сняты: { $name }.
admin-mod-granted = 🛡 Назначен модератор: { $name } (#{ $id }).
admin-mod-revoked = Права модератора сняты: { $name } (#{ $id }).
admin-you-are-moderator = 🛡 Теперь вы модератор. В меню команд появились команды модерации.
admin-you-are-not-moderator = Вы больше не модератор.
admin-stats =
    📊 <b>Статистика</b>
    Участников: { $users } (вошли: { $signed_in })
    Сейчас заблокированы: { $banned }
    Открытых жалоб: { $open }
    За 24 часа: { $reports } { $reports ->
        [one] жалоба
        [few] жалобы
       *[many] жалоб
    }, { $warnings } { $warnings ->
        [one] предупреждение
        [few] предупреждения
       *[many] предупреждений
    }
    Модераторов: { $moderators }
admin-audit-empty = Журнал модерации пуст.
admin-audit-title = <b>Журнал модерации: { $total }</b> (страница { $page }/{ $pages })
admin-audit-bot = бот
admin-audit-line = { $date } · { $actor }{ $actor_id ->
    [0] {""}
   *[other] {" "}(#{ $actor_id })
} · { $action ->
    [report] жалоба
    [warn] предупреждение
    [ban] бан
    [unban] снятие бана
    [ban_expired] бан истёк
    [dismiss] жалоба отклонена
    [delete_message] удаление сообщения
    [mod] назначение модератором
    [unmod] снятие прав модератора
    [lookup] просмотр карточки
    [broadcast] рассылка
   *[other] { $action }
} · { $target } (#{ $target_id }){ $has_duration ->
    [0] {""}
   *[other] , на { $duration }
}{ $has_reason ->
    [0] {""}
   *[other] {" "}— { $reason }
}

# /broadcast
cmd-broadcast = Сообщение всем: /broadcast текст
broadcast-usage = Как использовать: <code>/broadcast текст объявления</code>. Оформление сохранится; сначала покажу, как это будет выглядеть.
broadcast-empty = Объявление пустое.
broadcast-too-long = Объявление слишком длинное: { $length } { $length ->
    [one] символ
    [few] символа
   *[many] символов
}, а можно не больше { $limit }.
broadcast-html-invalid = Telegram не примет этот текст: тег { $tag } ему неизвестен или закрыт не по порядку. Ничего не отправлено.
broadcast-not-found = Эта рассылка не ваша или её больше нет.
broadcast-already-handled = Эта рассылка уже { $status ->
    [cancelled] отменена
   *[other] отправлена
}; ничего не изменилось.
broadcast-preview = 📣 <b>Так будет выглядеть рассылка</b> — её { $count ->
    [one] получит { $count } участник
    [few] получат { $count } участника
   *[many] получат { $count } участников
}:
broadcast-btn-send = 📣 Отправить ({ $count })
broadcast-btn-cancel = ✖️ Отмена
broadcast-started = Отправляю…
broadcast-cancelled = ✖️ Рассылка отменена, ничего не отправлено.
broadcast-nobody = 📣 Отправлять некому.
broadcast-progress = 📣 <b>Идёт рассылка…</b>
    Доставлено: { $delivered } из { $total }
    Заблокировали бота: { $blocked }
    Не доставлено: { $failed }
broadcast-finished = 📣 <b>Рассылка завершена</b>
    Доставлено: { $delivered } из { $total }
    Заблокировали бота: { $blocked }
    Не доставлено: { $failed }
