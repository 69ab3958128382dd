cmd-rooms = Мои комнаты: переключиться, управлять, выйти
cmd-newroom = Создать комнату: /newroom название

room-new-usage = Как использовать: <code>/newroom Книжный клуб</code> — комната с таким названием; людей вы приглашаете её ссылкой и одобряете каждую заявку.
room-title-invalid = Название комнаты — от 1 до { $limit } { $limit ->
    [one] символа
   *[other] символов
}.
room-created =
    🏠 Комната <b>{ $title }</b> готова. Приглашайте людей этой ссылкой — каждую заявку одобряете вы:
    { $link }
room-sign-in-first = Это приглашение в комнату. Сначала войдите: отправьте номер телефона кнопкой ниже, и сразу после входа заявка уйдёт в комнату.
room-link-invalid = Эта ссылка на комнату не работает: её заменили новой или её не было.
room-closed = Комната <b>{ $title }</b> закрыта.
room-already-member = Вы уже в комнате <b>{ $title }</b>. /rooms — переключиться на неё.
room-already-requested = Вы уже попросились в комнату <b>{ $title }</b>; владелец ещё не ответил.
room-kicked-out = Владелец удалил вас из комнаты <b>{ $title }</b>.
room-not-yours = Это может только владелец комнаты.
room-not-found = Этой комнаты больше нет.
room-request-handled = На эту заявку уже ответили; ничего не изменилось.
room-not-member = Вы не в этой комнате.
room-owner-stays = Владелец не может выйти или быть удалён; вместо этого закройте комнату.
room-requested = ✉️ Заявка в комнату <b>{ $title }</b> отправлена. Когда владелец ответит, придёт сообщение.
room-request = 🚪 <b>{ $name }</b> просится в вашу комнату <b>{ $title }</b>.
room-btn-approve = ✅ Принять
room-btn-decline = ✖️ Отклонить
room-approved = ✅ Вы в комнате <b>{ $title }</b>. Нажмите кнопку, чтобы писать туда; переключаться можно в любой момент в /rooms.
room-declined = Заявка в комнату <b>{ $title }</b> отклонена владельцем.
room-approved-owner = ✅ Новый участник в комнате <b>{ $title }</b>: { $name }.
room-declined-owner = ✖️ Заявка отклонена: { $name }, комната <b>{ $title }</b>.
room-list-empty = Вы пока ни в одной комнате. /newroom создаёт комнату; по ссылке комнаты можно попроситься в неё.
room-list = 🏠 <b>Ваши комнаты: { $count }</b>. Нажмите, чтобы писать туда.
room-btn-switch = { $title } ({ $count })
room-btn-manage = ⚙️ Управлять
room-btn-leave = 🚪 Выйти
room-left = Вы вышли из комнаты «{ $title }».
room-manage =
    ⚙️ <b>{ $title }</b> — { $count } { $count ->
        [one] участник
        [few] участника
       *[many] участников
    }
    Ссылка-приглашение: { $link }
room-btn-members = 👥 Участники
room-btn-rotate = 🔄 Новая ссылка
room-btn-close = 🔒 Закрыть комнату
room-members = 👥 <b>{ $title }</b>: кроме вас — { $count }. Нажмите на имя, чтобы удалить.
room-members-none = В комнате <b>{ $title }</b> пока никого, кроме вас.
room-btn-kick = ✖️ { $name }
room-kicked-owner = ✖️ Участник удалён из комнаты «{ $title }»: { $name }.
room-kicked = Владелец удалил вас из комнаты <b>{ $title }</b>.
room-rotated =
    🔄 Новая ссылка для комнаты <b>{ $title }</b> — старая больше не работает:
    { $link }
room-close-confirm = Закрыть комнату <b>{ $title }</b> для всех? Участникам придёт сообщение; отменить нельзя.
room-btn-close-yes = 🔒 Да, закрыть
room-closed-owner = 🔒 Комната <b>{ $title }</b> закрыта.
room-closed-notice = 🔒 Владелец закрыл комнату <b>{ $title }</b>. Вы снова в общем чате.
relay-placeholder-room = В комнату { $title }
relay-target-room = комната { $title }
relay-now-room = 🏠 Теперь вы пишете в комнату <b>{ $title }</b>. /common — вернуться, /rooms — переключиться.
relay-unread-room = <b>Комната { $title } — непрочитанных: { $count }</b>
room-nobody = В этой комнате пока никого — поделитесь ссылкой: /rooms → ⚙️ Управлять.
room-btn-write = ✍️ Писать в комнату «{ $title }»
