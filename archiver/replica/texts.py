"""Static texts of the replica: sections, interface labels, real article texts and generator vocabulary.

The two real English articles come from a text-only copy of en.odkb-csto.org (see the project's reference notes);
their Russian versions and everything else are written for the replica.
"""

# slug, English title, Russian title, shown in menus (the hidden one is reachable only from its articles)
SECTIONS = [
    ("news_odkb", "CSTO News", "Новости ОДКБ", True),
    ("news_secretariat", "Secretariat News", "Новости Секретариата", True),
    ("parliamentary_assembly", "Parliamentary Assembly", "Парламентская Ассамблея", True),
    ("military_cooperation", "Military Cooperation", "Военное сотрудничество", False),
    ("announcements", "Announcements", "Анонсы", False),
]
SECTION_TITLES = {slug: {"en": en, "ru": ru} for slug, en, ru, _ in SECTIONS}
HIDDEN_SECTION = "military_cooperation"
# Linked only from the home pages' announcements box (its newest item) and that item's "Back to the section"; named
# in no menu nor breadcrumb, and left out of the all-news listing (archiver/replica/announcements.py).
HOME_ONLY_SECTION = "announcements"

UI = {
    "en": {
        "site": "CSTO", "org": "Collective Security Treaty Organization", "home": "Home", "news": "News",
        "go_back": "Go back", "back_section": "Back to the section", "back_all": "Back to the all news",
        "other_news": "Other news", "share": "Share:", "print": "Print version", "prev": "Prev", "next": "Next",
        "first": "First", "last": "Last", "pages": "Pages:", "not_found": "Element not found",
        "page_not_found": "Page not found", "page_not_found_text": "The page you requested does not exist.",
        "search": "Search", "calendar": "News calendar", "prev_day": "Previous day",
        "filter": "Show news for the day", "all_news": "All CSTO News", "no_news": "There is no news for this day.",
        "address": "101000, Moscow, Sverchkov lane, 3/2",
        "copyright": "© 2009–2026 CSTO", "updated": "Last updated 01.11.2026",
        "rights": "All rights reserved. Reproduction is allowed with a link to the CSTO website.",
        "partners": "Partner organizations", "follow": "Follow us on VK",
        "statement": "Statement (PDF)", "search_results": "Search results",
        "menu": [("/about/", "About the CSTO"), ("/authorized_organs/", "Authorized organs"),
                 ("/documents/", "Documents"), ("/news/", "Press center"), ("/contacts/", "Contacts")],
        "signature": "The CSTO Press Secretary Vladimir Zaynetdinov",
        "edited_title": " (updated)", "edited_para": " This information has been updated.",
    },
    "ru": {
        "site": "ОДКБ", "org": "Организация Договора о коллективной безопасности", "home": "Главная",
        "news": "Новости", "go_back": "Назад", "back_section": "Вернуться в раздел",
        "back_all": "Вернуться ко всем новостям", "other_news": "Другие новости", "share": "Поделиться:",
        "print": "Версия для печати", "prev": "Пред.", "next": "След.", "first": "Начало", "last": "Конец",
        "pages": "Страницы:", "not_found": "Элемент не найден", "page_not_found": "Страница не найдена",
        "page_not_found_text": "Запрошенная страница не существует.", "search": "Поиск",
        "calendar": "Календарь новостей", "prev_day": "Предыдущий день", "filter": "Показать новости за день",
        "all_news": "Все новости ОДКБ", "no_news": "Новостей за этот день нет.",
        "address": "101000, Москва, Сверчков переулок, 3/2",
        "copyright": "© 2009–2026 ОДКБ", "updated": "Последнее обновление 01.11.2026",
        "rights": "Все права защищены. Перепечатка допускается со ссылкой на сайт ОДКБ.",
        "partners": "Организации-партнёры", "follow": "Мы во ВКонтакте",
        "statement": "Заявление (PDF)", "search_results": "Результаты поиска",
        "menu": [("/about/", "Об ОДКБ"), ("/authorized_organs/", "Уставные и рабочие органы"),
                 ("/documents/", "Документы"), ("/news/", "Пресс-центр"), ("/contacts/", "Контакты")],
        "signature": "Пресс-секретарь ОДКБ Владимир Зайнетдинов",
        "edited_title": " (обновлено)", "edited_para": " Информация обновлена.",
    },
}

MONTHS_GENITIVE = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]

# Bitrix-style transliteration used for element codes (slugs)
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                     "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]))

# --- the two real English articles (text-only copy of the real site), with Russian versions written for the replica
REAL_ARTICLES = [
    {
        "date": (2020, 7, 3), "section": "news_odkb",
        "image": "/upload/iblock/4f7/4f7a1b04-604b-4b73-b8de-96ca6de16e3d.jpg",
        "en_title": "CSTO Secretary General Stanislav Zas took part in the celebrations of the Independence Day "
                    "of the Republic of Belarus",
        "ru_title": "Генеральный секретарь ОДКБ Станислав Зась принял участие в праздновании Дня независимости "
                    "Республики Беларусь",
        "en": [
            "On July 3, Minsk hosted celebrations dedicated to the Independence Day of the Republic of Belarus, in "
            "which the CSTO Secretary General Stanislav Zas took part. On July 2, he attended a solemn meeting "
            "dedicated to this holiday with the participation of the President of the Republic of Belarus Alexander "
            "Lukashenko. On July 3 he laid flowers at the Victory Monument.",
            "Also the celebrations were attended by the Chairman of the CIS Executive Committee Sergey Lebedev, the "
            "State Secretary of the Union State of the Republic of Belarus and Russia Grigory Rapota and the Chairman "
            "of the Board of the Eurasian Economic Commission Mikhail Myasnikovich..",
            "The ceremonies were attended by the ambassadors of the CSTO member states.",
            "Stanislav Zas also held talks with the heads of power structures of the Republic of Belarus on issues "
            "of interaction in the CSTO format.",
            "The Independence Day of the Republic of Belarus (the Republic Day) is the main holiday of Belarusian "
            "statehood. It is celebrated annually on July 3 in honor of the liberation of the capital of the "
            "Republic of Belarus Minsk from Nazi invaders in 1944.",
            "The decision to celebrate the Independence Day on July 3 was made during a republican referendum in "
            "1996.",
            "On the Independence Day, the Days of several Belarusian cities are also celebrated.",
            "Expositions dedicated to the work of Soviet diplomats upon the years of the Great Patriotic War of "
            "1941-1945, the life of a foreign diplomatic corps during the evacuation period, and also the "
            "contribution of the Union Republics of the USSR (now the CSTO member states) to the Great Victory "
            "were deployed as margin notes of the event.",
        ],
        "ru": [
            "3 июля в Минске прошли торжества, посвящённые Дню независимости Республики Беларусь, в которых принял "
            "участие Генеральный секретарь ОДКБ Станислав Зась. 2 июля он присутствовал на торжественном собрании, "
            "посвящённом празднику, с участием Президента Республики Беларусь Александра Лукашенко. 3 июля он "
            "возложил цветы к монументу Победы.",
            "Также в торжествах приняли участие Председатель Исполнительного комитета СНГ Сергей Лебедев, "
            "Государственный секретарь Союзного государства Григорий Рапота и Председатель Коллегии Евразийской "
            "экономической комиссии Михаил Мясникович.",
            "На церемониях присутствовали послы государств – членов ОДКБ.",
            "Станислав Зась также провёл беседы с руководителями силовых структур Республики Беларусь по вопросам "
            "взаимодействия в формате ОДКБ.",
            "День независимости Республики Беларусь (День Республики) – главный праздник белорусской "
            "государственности. Он ежегодно отмечается 3 июля в честь освобождения Минска от "
            "немецко-фашистских захватчиков в 1944 году.",
            "Решение отмечать День независимости 3 июля было принято на республиканском референдуме в 1996 году.",
            "В День независимости также отмечаются дни нескольких белорусских городов.",
            "На полях мероприятия были развёрнуты экспозиции, посвящённые работе советских дипломатов в годы "
            "Великой Отечественной войны 1941–1945 годов и вкладу союзных республик СССР в Великую Победу.",
        ],
        "body_image": None, "signature": False,
    },
    {
        "date": (2020, 2, 12), "section": "news_secretariat",
        "image": "/upload/iblock/9c2/9c2d7e5a-31f0-4b8e-a6c1-5e0f2b7d4a19.jpg",
        "en_title": "The CSTO delegation takes part in the Joint UN-OSCE Conference on Antiterrorism in Vienna",
        "ru_title": "Делегация ОДКБ принимает участие в Совместной конференции ООН и ОБСЕ по противодействию "
                    "терроризму в Вене",
        "en": [
            "On February 11-12, 2020, Vienna hosted the Joint High-Level Regional Conference “Foreign Militant "
            "Terrorists (FMT): Responding to Modern Challenges”.",
            "The event was held jointly by the Organization for Security and Cooperation in Europe (OSCE), the UN "
            "Counter-Terrorism Directorate and Switzerland in cooperation with the current Albanian Chairmanship of "
            "the OSCE. The conference was the next stage in a series of regional meetings in the development of "
            "decisions convened for the first time by the UN Secretary-General in June 2018 in New York at a "
            "high-level United Nations conference with the participation of heads of counter-terrorism agencies of "
            "Member States.",
            "At the invitation of the organizers, a delegation of the CSTO Secretariat, led by the head of the "
            "Office for Countering Challenges and Threats, Murad Kunakbaev, took part in the Joint Conference in the "
            "Austrian capital. His speech at the forum was dedicated to the topic of preventing and preventing the "
            "movement of information security services in the context of the Statement made by the heads of the "
            "CSTO member states at the meeting of the Collective Security Treaty Organization in November 2018 on "
            "coordinated measures against international terrorist organizations against participants in armed "
            "conflicts.",
            "A report by M. Kunakbaev, in which he referred, in particular, to the results of the first special "
            "operation under the collective security treaty organization format in 2019 under the code name "
            "“Mercenary” (\"Naemnik\"), the purpose of which was to block the channels of recruitment, entry of "
            "citizens of CSTO member states or their departure abroad to participate in armed conflicts on the side "
            "of international terrorist organizations, as well as the neutralization of their resource base, aroused "
            "the interest of the participants in the Vienna meeting.",
            "Speaking at the close of the event, OSCE Secretary-General Thomas Greminger and UN Under-Secretary-"
            "General, head of KTU Vladimir Voronkov said that its results would be summarized by the co-chairs and "
            "presented to the Second High-level United Nations Conference with the participation of heads of "
            "counter-terrorism agencies of the member states, which will be held in New York July 1-2, 2020",
            "The exchange of views of the professionals participating in the Joint Conference - representatives of "
            "national anti-terrorist structures and specialized anti-terrorism units of the UN and regional "
            "organizations, experts with practical experience was useful for solving the task of forming a broad "
            "anti-terrorism front with the central coordinating role of the United Nations.",
        ],
        "ru": [
            "11–12 февраля 2020 года в Вене прошла Совместная региональная конференция высокого уровня "
            "«Иностранные боевики-террористы: ответ на современные вызовы».",
            "Мероприятие организовано ОБСЕ, Контртеррористическим управлением ООН и Швейцарией во взаимодействии "
            "с албанским председательством в ОБСЕ.",
            "По приглашению организаторов в конференции приняла участие делегация Секретариата ОДКБ во главе с "
            "начальником Отдела по противодействию вызовам и угрозам Мурадом Кунакбаевым.",
            "Доклад М. Кунакбаева, в котором он, в частности, рассказал о результатах первой специальной операции "
            "в формате ОДКБ под условным наименованием «Наёмник», вызвал интерес участников встречи в Вене.",
            "Подводя итоги, Генеральный секретарь ОБСЕ Томас Гремингер и заместитель Генерального секретаря ООН "
            "Владимир Воронков сообщили, что результаты будут представлены на Второй конференции ООН высокого "
            "уровня в Нью-Йорке 1–2 июля 2020 года.",
            "Обмен мнениями профессионалов оказался полезным для решения задачи формирования широкого "
            "антитеррористического фронта при центральной координирующей роли ООН.",
        ],
        # the real page shows this picture after the third paragraph, file name with Cyrillic and spaces
        "body_image": (3, "/upload/medialibrary/5b1/IMG_Кунакбаев М. в Вене 11.02.2020.jpg"),
        "signature": True,
    },
]

# --- generator vocabulary: (English, Russian nominative, Russian prepositional) or similar parallel forms
PERSONS = [("Stanislav Zas", "Станислав Зась"), ("Imangali Tasmagambetov", "Имангали Тасмагамбетов"),
           ("Anatoly Sidorov", "Анатолий Сидоров"), ("Valery Semerikov", "Валерий Семериков"),
           ("Andrey Serdyukov", "Андрей Сердюков"), ("Murad Kunakbaev", "Мурад Кунакбаев")]
ROLES = [("CSTO Secretary General", "Генеральный секретарь ОДКБ"),
         ("Chief of the CSTO Joint Staff", "Начальник Объединённого штаба ОДКБ"),
         ("Deputy Secretary General of the CSTO", "Заместитель Генерального секретаря ОДКБ")]
CITIES = [("Minsk", "Минске"), ("Moscow", "Москве"), ("Yerevan", "Ереване"), ("Astana", "Астане"),
          ("Bishkek", "Бишкеке"), ("Dushanbe", "Душанбе"), ("Saint Petersburg", "Санкт-Петербурге"),
          ("Almaty", "Алматы")]
EVENTS = [("meeting of the CSTO Council of Foreign Ministers", "заседание Совета министров иностранных дел ОДКБ",
           "заседании Совета министров иностранных дел ОДКБ"),
          ("meeting of the CSTO Council of Defence Ministers", "заседание Совета министров обороны ОДКБ",
           "заседании Совета министров обороны ОДКБ"),
          ("meeting of the Committee of Secretaries of Security Councils",
           "заседание Комитета секретарей советов безопасности",
           "заседании Комитета секретарей советов безопасности"),
          ("meeting of the Permanent Council under the CSTO", "заседание Постоянного совета при ОДКБ",
           "заседании Постоянного совета при ОДКБ"),
          ("session of the CSTO Parliamentary Assembly Council", "заседание Совета Парламентской Ассамблеи ОДКБ",
           "заседании Совета Парламентской Ассамблеи ОДКБ"),
          ("meeting of the heads of border services", "совещание руководителей пограничных ведомств",
           "совещании руководителей пограничных ведомств"),
          ("joint exercise “Interaction-{year}”", "совместное учение «Взаимодействие-{year}»",
           "совместном учении «Взаимодействие-{year}»"),
          ("operation “Channel – Centre-{year}”", "операционное мероприятие «Канал – Центр-{year}»",
           "операционном мероприятии «Канал – Центр-{year}»")]
TOPICS = [("countering international terrorism", "противодействия международному терроризму"),
          ("strengthening the security of external borders", "укрепления безопасности внешних границ"),
          ("combating drug trafficking", "борьбы с незаконным оборотом наркотиков"),
          ("information security", "информационной безопасности"),
          ("peacekeeping activities", "миротворческой деятельности"),
          ("crisis response", "реагирования на кризисные ситуации")]

# title templates: (English, Russian); the slug is always made from the Russian one
TITLE_TEMPLATES = [
    ("{role} {person} took part in the {event} in {city}", "{role_ru} {person_ru} принял участие в {event_prep}"),
    ("{city} hosted the {event}", "В {city_ru} прошло {event_ru}"),
    ("{person} discussed issues of {topic} in {city}", "{person_ru} обсудил вопросы {topic_ru} в {city_ru}"),
    ("The {event} was held", "Состоялось {event_ru}"),
    ("{role} held a working meeting on {topic}", "{role_ru} провёл рабочую встречу по вопросам {topic_ru}"),
]

# body sentence templates; {when}/{when_ru} hold a written date and are avoided in the undated article
SENTENCES = [
    ("On {when}, {city} hosted the {event}.", "{when_ru} в {city_ru} прошло {event_ru}."),
    ("The meeting was chaired by {person}.", "Заседание провёл {person_ru}."),
    ("The participants discussed issues of {topic} and adopted a number of decisions.",
     "Участники обсудили вопросы {topic_ru} и приняли ряд решений."),
    ("Representatives of the CSTO member states exchanged views on the current situation in the region.",
     "Представители государств – членов ОДКБ обменялись мнениями о текущей ситуации в регионе."),
    ("{person} noted the importance of coordinated actions of the member states.",
     "{person_ru} отметил важность согласованных действий государств-членов."),
    ("Particular attention was paid to {topic}.", "Особое внимание было уделено вопросам {topic_ru}."),
    ("The next meeting is scheduled to take place in {city2}.",
     "Следующее заседание планируется провести в {city2_ru}."),
    ("The parties agreed to continue cooperation on {topic}.",
     "Стороны договорились продолжить сотрудничество в сфере {topic_ru}."),
    ("Following the event, a joint protocol was signed.", "По итогам мероприятия подписан совместный протокол."),
    ("The delegations visited the training centre and got acquainted with its work.",
     "Делегации посетили учебный центр и ознакомились с его работой."),
]
UNDATED_LEAD = ("The {event} took place in {city}.", "В {city_ru} прошло {event_ru}.")
CAPTIONS = [("Participants of the meeting", "Участники заседания"),
            ("During the talks", "Во время переговоров"),
            ("Photo by the CSTO press service", "Фото пресс-службы ОДКБ")]
# Cyrillic file names with spaces, as editors upload them
BODY_IMAGE_NAMES = ["IMG_Заседание в {city_ru} {d}.jpg", "Фото {n} с мероприятия.jpg", "DSC_{n} ОДКБ.jpg"]
