"""The catalogue that ships with the portal: regions, main cities, the five tracks."""

from portal.vocabulary import Domain, EducationLevel

# (code, fr, ar, en, [(slug, fr, ar, en), ...])
REGIONS = [
    (
        "TTA",
        "Tanger-Tétouan-Al Hoceïma",
        "طنجة تطوان الحسيمة",
        "Tangier-Tetouan-Al Hoceima",
        [
            ("tanger", "Tanger", "طنجة", "Tangier"),
            ("tetouan", "Tétouan", "تطوان", "Tetouan"),
            ("al-hoceima", "Al Hoceïma", "الحسيمة", "Al Hoceima"),
            ("larache", "Larache", "العرائش", "Larache"),
        ],
    ),
    (
        "ORI",
        "L'Oriental",
        "الشرق",
        "Oriental",
        [
            ("oujda", "Oujda", "وجدة", "Oujda"),
            ("nador", "Nador", "الناظور", "Nador"),
            ("berkane", "Berkane", "بركان", "Berkane"),
        ],
    ),
    (
        "FM",
        "Fès-Meknès",
        "فاس مكناس",
        "Fez-Meknes",
        [
            ("fes", "Fès", "فاس", "Fez"),
            ("meknes", "Meknès", "مكناس", "Meknes"),
            ("taza", "Taza", "تازة", "Taza"),
        ],
    ),
    (
        "RSK",
        "Rabat-Salé-Kénitra",
        "الرباط سلا القنيطرة",
        "Rabat-Sale-Kenitra",
        [
            ("rabat", "Rabat", "الرباط", "Rabat"),
            ("sale", "Salé", "سلا", "Sale"),
            ("kenitra", "Kénitra", "القنيطرة", "Kenitra"),
            ("temara", "Témara", "تمارة", "Temara"),
        ],
    ),
    (
        "BMK",
        "Béni Mellal-Khénifra",
        "بني ملال خنيفرة",
        "Beni Mellal-Khenifra",
        [
            ("beni-mellal", "Béni Mellal", "بني ملال", "Beni Mellal"),
            ("khouribga", "Khouribga", "خريبكة", "Khouribga"),
            ("khenifra", "Khénifra", "خنيفرة", "Khenifra"),
        ],
    ),
    (
        "CS",
        "Casablanca-Settat",
        "الدار البيضاء سطات",
        "Casablanca-Settat",
        [
            ("casablanca", "Casablanca", "الدار البيضاء", "Casablanca"),
            ("mohammedia", "Mohammédia", "المحمدية", "Mohammedia"),
            ("el-jadida", "El Jadida", "الجديدة", "El Jadida"),
            ("settat", "Settat", "سطات", "Settat"),
        ],
    ),
    (
        "MS",
        "Marrakech-Safi",
        "مراكش آسفي",
        "Marrakesh-Safi",
        [
            ("marrakech", "Marrakech", "مراكش", "Marrakesh"),
            ("safi", "Safi", "آسفي", "Safi"),
            ("essaouira", "Essaouira", "الصويرة", "Essaouira"),
        ],
    ),
    (
        "DT",
        "Drâa-Tafilalet",
        "درعة تافيلالت",
        "Draa-Tafilalet",
        [
            ("errachidia", "Errachidia", "الرشيدية", "Errachidia"),
            ("ouarzazate", "Ouarzazate", "ورزازات", "Ouarzazate"),
        ],
    ),
    (
        "SM",
        "Souss-Massa",
        "سوس ماسة",
        "Souss-Massa",
        [
            ("agadir", "Agadir", "أكادير", "Agadir"),
            ("inezgane", "Inezgane", "إنزكان", "Inezgane"),
            ("taroudant", "Taroudant", "تارودانت", "Taroudant"),
            ("tiznit", "Tiznit", "تيزنيت", "Tiznit"),
        ],
    ),
    (
        "GON",
        "Guelmim-Oued Noun",
        "كلميم واد نون",
        "Guelmim-Oued Noun",
        [
            ("guelmim", "Guelmim", "كلميم", "Guelmim"),
            ("tan-tan", "Tan-Tan", "طانطان", "Tan-Tan"),
        ],
    ),
    (
        "LSH",
        "Laâyoune-Sakia El Hamra",
        "العيون الساقية الحمراء",
        "Laayoune-Sakia El Hamra",
        [
            ("laayoune", "Laâyoune", "العيون", "Laayoune"),
            ("boujdour", "Boujdour", "بوجدور", "Boujdour"),
        ],
    ),
    (
        "DOD",
        "Dakhla-Oued Ed-Dahab",
        "الداخلة وادي الذهب",
        "Dakhla-Oued Ed-Dahab",
        [
            ("dakhla", "Dakhla", "الداخلة", "Dakhla"),
        ],
    ),
]

TRACKS = [
    {
        "code": "NUM-TRANS",
        "domain": Domain.DIGITAL,
        "min_education": EducationLevel.BACCALAUREATE,
        "title_fr": "Transformation numérique des associations",
        "title_ar": "التحول الرقمي للجمعيات",
        "title_en": "Digital transformation of associations",
        "description_fr": "Outils collaboratifs, gestion des adhérents en ligne, sécurité des données et conduite du changement numérique dans une association.",
        "description_ar": "الأدوات التعاونية، وتدبير المنخرطين عبر الإنترنت، وأمن البيانات، وقيادة التغيير الرقمي داخل الجمعية.",
        "description_en": "Collaborative tools, online membership management, data security and leading digital change in an association.",
    },
    {
        "code": "IA-APPL",
        "domain": Domain.DIGITAL,
        "min_education": EducationLevel.BACCALAUREATE,
        "title_fr": "Intelligence artificielle au service de l'action associative",
        "title_ar": "الذكاء الاصطناعي في خدمة العمل الجمعوي",
        "title_en": "Artificial intelligence for associative action",
        "description_fr": "Comprendre l'IA, l'utiliser de façon responsable pour rédiger, analyser des données et mieux servir les bénéficiaires.",
        "description_ar": "فهم الذكاء الاصطناعي واستعماله بمسؤولية في التحرير وتحليل البيانات وخدمة المستفيدين بشكل أفضل.",
        "description_en": "Understanding AI and using it responsibly to write, analyse data and better serve beneficiaries.",
    },
    {
        "code": "COM-DIG",
        "domain": Domain.DIGITAL,
        "min_education": EducationLevel.SECONDARY,
        "title_fr": "Communication digitale et plaidoyer en ligne",
        "title_ar": "التواصل الرقمي والترافع عبر الإنترنت",
        "title_en": "Digital communication and online advocacy",
        "description_fr": "Réseaux sociaux, création de contenus, campagnes de plaidoyer et mesure de leur impact.",
        "description_ar": "شبكات التواصل الاجتماعي، وإنتاج المحتوى، وحملات الترافع وقياس أثرها.",
        "description_en": "Social media, content creation, advocacy campaigns and measuring their impact.",
    },
    {
        "code": "GEST-AF",
        "domain": Domain.MANAGEMENT,
        "min_education": EducationLevel.SECONDARY,
        "title_fr": "Gestion administrative et financière des associations",
        "title_ar": "التدبير الإداري والمالي للجمعيات",
        "title_en": "Administrative and financial management of associations",
        "description_fr": "Obligations légales, comptabilité associative, budget, rapports financiers et transparence.",
        "description_ar": "الالتزامات القانونية، والمحاسبة الجمعوية، والميزانية، والتقارير المالية والشفافية.",
        "description_en": "Legal obligations, association accounting, budgeting, financial reporting and transparency.",
    },
    {
        "code": "GEST-PROJ",
        "domain": Domain.MANAGEMENT,
        "min_education": EducationLevel.SECONDARY,
        "title_fr": "Gestion de projets et mobilisation de financements",
        "title_ar": "تدبير المشاريع وتعبئة التمويلات",
        "title_en": "Project management and fundraising",
        "description_fr": "Concevoir un projet, répondre à un appel à projets, mobiliser des partenaires et rendre compte.",
        "description_ar": "تصميم مشروع، والاستجابة لطلبات المشاريع، وتعبئة الشركاء وتقديم الحساب.",
        "description_en": "Designing a project, answering calls for proposals, mobilising partners and reporting.",
    },
]

# The offerings of the first academic year: digital tracks in Rabat and Casablanca,
# management tracks in Tanger and Agadir.
OFFERINGS = [
    (code, city)
    for code, cities in (
        ("NUM-TRANS", ("rabat", "casablanca")),
        ("IA-APPL", ("rabat", "casablanca")),
        ("COM-DIG", ("rabat", "casablanca")),
        ("GEST-AF", ("tanger", "agadir")),
        ("GEST-PROJ", ("tanger", "agadir")),
    )
    for city in cities
]
