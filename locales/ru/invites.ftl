invite-card =
    🎟 Ваш код приглашения: <code>{ $code }</code>
    Ссылка: { $link }
    Действует до { $expires }
invite-none = У вас нет действующего кода. Нажмите «Новый код», чтобы получить его.
invite-btn-share = 📤 Поделиться
invite-btn-qr = 🔳 QR
invite-btn-new = 🔄 Новый код
invite-btn-delete = 🗑 Удалить код
invite-share-text = Присоединяйтесь ко мне в общем чате!
invite-new-done = Выдан новый код; старый больше не действует.
invite-deleted = Код удалён.
invite-qr-caption = QR для кода <code>{ $code }</code>: { $link }
invite-button-stale = Эта кнопка устарела: код уже изменён. Отправьте /invite, чтобы увидеть текущий.
invite-redeem-usage = Отправьте код после команды, например <code>/redeem Qz3Isl</code>.
invite-redeemed = 🎉 Код принят. Кто вас пригласил: <b>{ $inviter }</b>.
invite-inviter-notice = 🎉 Новый участник по вашему коду: <b>{ $name }</b>!
invite-unknown = Код «{ $code }» не найден. Проверьте написание: 6 букв и цифр, регистр важен.
invite-expired = Срок этого кода истёк. Попросите у друга новый.
invite-inactive = Этот код больше не действует: владелец заменил или удалил его.
invite-own = Это ваш собственный код — поделитесь им с друзьями.
invite-already-redeemed = Вы уже использовали код приглашения; можно только один.
invite-cycle = Этот код использовать нельзя: его владелец пришёл по вашему приглашению.
referrals-empty = По вашему коду пока никто не пришёл. Поделитесь им: /invite.
referrals-title = <b>Пришли по вашему коду: { $total }</b> (страница { $page }/{ $pages })
referrals-line = • { $name } — { $phone } — { $date }
admin-code = { $user } (#{ $id }): код <code>{ $code }</code>, действует до { $expires }
admin-invited-by = Участник { $user } (#{ $id }). Кто пригласил: { $inviter } (#{ $inviter_id }).
admin-invited-by-nobody = Участник { $user } (#{ $id }): без кода приглашения.
