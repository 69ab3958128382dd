gmfy-disabled = Геймификация в этом боте не включена.
gmfy-unavailable = Достижения сейчас недоступны. Попробуйте через несколько минут.
gmfy-not-found = Ничего не найдено по «{ $id }». Проверьте идентификатор.
gmfy-no-default = Рейтинг по умолчанию не настроен. Укажите его идентификатор после команды, например <code>/top ID</code>.
gmfy-someone = кто-то
gmfy-profile-title = <b>🏆 Ваши достижения</b>
gmfy-profile-ratings = <b>Рейтинги</b>
gmfy-profile-rating-line = • { $name }: { $value } — место { $place }
gmfy-profile-rating-line-unranked = • { $name }: { $value }
gmfy-profile-challenges = <b>Челленджи</b>
gmfy-profile-challenge-line = • { $name }: { $progress }% ({ $steps } { $steps ->
    [one] шаг пройден
    [few] шага пройдено
   *[many] шагов пройдено
})
gmfy-profile-badges = <b>Значки</b>
gmfy-profile-badge-line = • { $name } ×{ $count }
gmfy-profile-balances = <b>Балансы</b>
gmfy-profile-balance-line = • { $resource }: { $amount }
gmfy-profile-empty = Достижений пока нет — участвуйте в сообществе, и они появятся!
gmfy-top-title = <b>🏅 { $name }</b> — страница { $page }
gmfy-top-line = { $place }. { $name } — { $value }
gmfy-top-line-mine = <b>▶ { $place }. { $name } — { $value } (вы)</b>
gmfy-top-empty = В этом рейтинге пока никого нет.
gmfy-top-my-place = Ваше место: <b>{ $place }</b> ({ $value })
gmfy-top-not-ranked = Вас пока нет в этом рейтинге.
gmfy-btn-prev = ◀ Назад
gmfy-btn-next = Дальше ▶
gmfy-challenge-title = <b>🎯 { $name }</b>
gmfy-challenge-line = { $place }. { $name } — { $progress }%
gmfy-challenge-line-mine = <b>▶ { $place }. { $name } — { $progress }% (вы)</b>
gmfy-challenge-empty = В этом челлендже пока ни у кого нет прогресса.
gmfy-challenge-mine = Ваш прогресс: <b>{ $progress }%</b>, { $steps } { $steps ->
    [one] шаг пройден
    [few] шага пройдено
   *[many] шагов пройдено
}
gmfy-challenge-not-joined = У вас пока нет прогресса в этом челлендже.
gmfy-notification = 🔔 { $message }
gmfy-admin-title = <b>Состояние GMFY</b>
gmfy-admin-version = Версия API: { $version }
gmfy-admin-version-error = API недоступен: { $error }
gmfy-admin-outbox = Очередь событий: ожидают { $pending }, с ошибкой { $failed }; самое старое ожидающее: { $oldest }
gmfy-admin-last-error = Последняя ошибка ({ $when }): { $error }
gmfy-admin-no-error = Ошибок пока не было.
cmd-profile = Мои достижения, рейтинги и значки
cmd-top = Таблица лидеров
cmd-challenge = Прогресс в челлендже
