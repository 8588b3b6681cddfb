"""The starter list: common national acronyms of social action and employment, with their expansion.

A coordinator adopts it in one action and then amends it (a local definition, a link to
the territory's own structure). Each expansion was checked against the body's official
name; acronyms whose expansion varies or is ambiguous in the field were left out (« AI »,
« AS », « CD », « SAAD » since its 2023 reform, « MAIA », « SMPJPM »). Former bodies are
kept, marked as such, because old minutes and sheets still name them.
"""

from __future__ import annotations

from typing import NamedTuple

#: Bump when the list changes: the adoption records which list it took.
VERSION = "2026-1"


class Starter(NamedTuple):
    term: str
    expansion: str
    definition: str


STARTER: tuple[Starter, ...] = (
    # Organisations and services
    Starter(
        "CCAS",
        "Centre communal d'action sociale",
        "Service social de la commune : aides facultatives, domiciliation, instruction de demandes d'aide sociale.",
    ),
    Starter("CIAS", "Centre intercommunal d'action sociale", "Le CCAS porté par une intercommunalité pour plusieurs communes."),
    Starter(
        "UNCCAS",
        "Union nationale des centres communaux et intercommunaux d'action sociale",
        "Réseau national qui représente les CCAS et CIAS.",
    ),
    Starter(
        "MDS",
        "Maison départementale des solidarités",
        "Lieu d'accueil du Département : service social, protection de l'enfance, PMI, insertion.",
    ),
    Starter(
        "CAF", "Caisse d'allocations familiales", "Verse les prestations familiales, les aides au logement, le RSA et la prime d'activité."
    ),
    Starter("CPAM", "Caisse primaire d'assurance maladie", "Rembourse les soins et ouvre les droits à l'assurance maladie."),
    Starter(
        "CARSAT",
        "Caisse d'assurance retraite et de la santé au travail",
        "Retraite du régime général, prévention des risques professionnels, service social de l'assurance maladie (ex-CRAM).",
    ),
    Starter("CRAM", "Caisse régionale d'assurance maladie", "Ancien nom de la CARSAT, jusqu'en 2010."),
    Starter("MSA", "Mutualité sociale agricole", "La protection sociale (santé, famille, retraite) des exploitants et salariés agricoles."),
    Starter(
        "MDPH",
        "Maison départementale des personnes handicapées",
        "Guichet unique des droits liés au handicap : AAH, PCH, RQTH, orientations.",
    ),
    Starter(
        "CDAPH",
        "Commission des droits et de l'autonomie des personnes handicapées",
        "Commission de la MDPH qui décide des droits et des orientations.",
    ),
    Starter(
        "UDAF",
        "Union départementale des associations familiales",
        "Représente les familles ; exerce souvent des mesures de protection des majeurs.",
    ),
    Starter("ARS", "Agence régionale de santé", "Pilote la santé publique et autorise les établissements sanitaires et médico-sociaux."),
    Starter(
        "ADSEA",
        "Association départementale de sauvegarde de l'enfance et de l'adolescence",
        "Association de protection de l'enfance et de prévention ; son nom exact varie selon le département.",
    ),
    Starter(
        "ANPAA",
        "Association nationale de prévention en alcoologie et addictologie",
        "Prévention et soins en addictologie (devenue Association Addictions France en 2021).",
    ),
    Starter(
        "CIDFF",
        "Centre d'information sur les droits des femmes et des familles",
        "Informe gratuitement sur le droit, l'emploi et les violences faites aux femmes.",
    ),
    Starter(
        "ESS",
        "Économie sociale et solidaire",
        "Associations, coopératives, mutuelles et fondations, et les entreprises qui en suivent les principes.",
    ),
    # Employment and insertion
    Starter(
        "ANPE",
        "Agence nationale pour l'emploi",
        "Service public de l'emploi jusqu'à sa fusion avec les Assédic dans Pôle emploi, fin 2008.",
    ),
    Starter(
        "ASSEDIC",
        "Association pour l'emploi dans l'industrie et le commerce",
        "Versait l'assurance chômage jusqu'à la fusion dans Pôle emploi, fin 2008.",
    ),
    Starter("SPE", "Service public de l'emploi", "France Travail, les missions locales, Cap emploi et leurs partenaires."),
    Starter("ML", "Mission locale", "Accompagne les jeunes de 16 à 25 ans vers l'emploi, la formation, le logement et la santé."),
    Starter("MDE", "Maison de l'emploi", "Réunit les acteurs de l'emploi d'un bassin pour un accueil et des actions communs."),
    Starter(
        "PLIE",
        "Plan local pour l'insertion et l'emploi",
        "Accompagnement renforcé vers l'emploi des personnes qui en sont le plus éloignées, sur un territoire.",
    ),
    Starter(
        "IAE",
        "Insertion par l'activité économique",
        "Un contrat de travail avec un accompagnement, pour les personnes très éloignées de l'emploi.",
    ),
    Starter(
        "SIAE", "Structure d'insertion par l'activité économique", "ACI, EI, ETTI ou association intermédiaire conventionnée par l'État."
    ),
    Starter("ACI", "Atelier et chantier d'insertion", "Structure de l'IAE qui emploie et accompagne sur une activité d'utilité sociale."),
    Starter("EI", "Entreprise d'insertion", "Entreprise du secteur marchand qui emploie des personnes en parcours d'insertion."),
    Starter("ETTI", "Entreprise de travail temporaire d'insertion", "Missions d'intérim avec un accompagnement, dans le cadre de l'IAE."),
    Starter(
        "GEIQ",
        "Groupement d'employeurs pour l'insertion et la qualification",
        "Des entreprises qui recrutent ensemble en alternance des personnes éloignées de l'emploi.",
    ),
    Starter("CUI", "Contrat unique d'insertion", "Contrat aidé, associé à un accompagnement et à une formation."),
    Starter("PEC", "Parcours emploi compétences", "Le contrat aidé du secteur non marchand, avec formation et accompagnement."),
    Starter("CEJ", "Contrat d'engagement jeune", "Accompagnement intensif des jeunes vers l'emploi, avec une allocation, depuis 2022."),
    Starter(
        "PPAE",
        "Projet personnalisé d'accès à l'emploi",
        "Ce qu'un demandeur d'emploi et son conseiller conviennent de rechercher et de faire.",
    ),
    Starter(
        "RQTH",
        "Reconnaissance de la qualité de travailleur handicapé",
        "Décision de la CDAPH qui ouvre l'accès aux aides à l'emploi des personnes handicapées.",
    ),
    Starter(
        "AGEFIPH",
        "Association de gestion du fonds pour l'insertion professionnelle des personnes handicapées",
        "Finance l'emploi des personnes handicapées dans le secteur privé.",
    ),
    Starter(
        "ESAT",
        "Établissement et service d'aide par le travail",
        "Travail adapté et accompagnement pour des personnes handicapées orientées par la CDAPH.",
    ),
    Starter("CPF", "Compte personnel de formation", "Droits à la formation acquis en travaillant, utilisables tout au long de la vie."),
    Starter("VAE", "Validation des acquis de l'expérience", "Obtenir un diplôme à partir de son expérience."),
    Starter("FLE", "Français langue étrangère", "L'apprentissage du français par des personnes dont ce n'est pas la langue."),
    # Benefits and rights
    Starter("RSA", "Revenu de solidarité active", "Revenu minimum versé par la CAF ou la MSA, avec un accompagnement."),
    Starter("AAH", "Allocation aux adultes handicapés", "Revenu minimum des personnes handicapées, accordé par la CDAPH."),
    Starter(
        "PCH",
        "Prestation de compensation du handicap",
        "Aide du Département pour les besoins liés au handicap (aide humaine, aménagements).",
    ),
    Starter("AEEH", "Allocation d'éducation de l'enfant handicapé", "Aide aux parents d'un enfant handicapé, versée par la CAF."),
    Starter(
        "APA",
        "Allocation personnalisée d'autonomie",
        "Aide du Département aux personnes âgées de 60 ans et plus qui perdent leur autonomie.",
    ),
    Starter("ASPA", "Allocation de solidarité aux personnes âgées", "Le minimum vieillesse."),
    Starter(
        "ASS",
        "Allocation de solidarité spécifique",
        "Allocation de l'État pour des demandeurs d'emploi qui n'ont plus droit à l'assurance chômage.",
    ),
    Starter("ARE", "Aide au retour à l'emploi", "L'allocation de l'assurance chômage."),
    Starter("APL", "Aide personnalisée au logement", "Aide au paiement du loyer d'un logement conventionné, versée par la CAF ou la MSA."),
    Starter(
        "CSS", "Complémentaire santé solidaire", "Mutuelle gratuite ou à petit prix selon les ressources, depuis 2019 (ex-CMU-C et ACS)."
    ),
    Starter(
        "ACS",
        "Aide au paiement d'une complémentaire santé",
        "Aide à payer une mutuelle, fondue dans la complémentaire santé solidaire en 2019.",
    ),
    Starter("HPST", "Hôpital, patients, santé et territoires", "La loi de 2009 qui a créé les ARS et transformé les CRAM en CARSAT."),
    Starter("DE", "Diplôme d'État", "Diplôme du travail social délivré par l'État (DE CESF, DE d'assistant de service social…)."),
    Starter(
        "CMU",
        "Couverture maladie universelle",
        "Ancienne couverture de base des personnes sans autre droit, remplacée par la PUMa en 2016.",
    ),
    Starter(
        "PUMa", "Protection universelle maladie", "Prise en charge des frais de santé de toute personne qui travaille ou réside en France."
    ),
    Starter("AME", "Aide médicale de l'État", "Accès aux soins des personnes étrangères en situation irrégulière, sous conditions."),
    Starter("DALO", "Droit au logement opposable", "Recours devant une commission quand on n'obtient pas de logement adapté."),
    Starter(
        "FSL",
        "Fonds de solidarité pour le logement",
        "Aide du Département pour accéder à un logement ou s'y maintenir (dépôt de garantie, impayés, énergie).",
    ),
    Starter("FAJ", "Fonds d'aide aux jeunes", "Aides ponctuelles du Département aux jeunes de 18 à 25 ans en difficulté."),
    Starter("CMI", "Carte mobilité inclusion", "Carte de la MDPH : invalidité, priorité ou stationnement."),
    # Housing and shelter
    Starter(
        "SIAO",
        "Service intégré d'accueil et d'orientation",
        "Reçoit les demandes d'hébergement et de logement accompagné et oriente (le 115 en fait partie).",
    ),
    Starter(
        "CHRS", "Centre d'hébergement et de réinsertion sociale", "Hébergement avec un accompagnement social pour retrouver son autonomie."
    ),
    Starter(
        "CHU",
        "Centre d'hébergement d'urgence",
        "Hébergement immédiat et inconditionnel (à ne pas confondre avec le centre hospitalier universitaire).",
    ),
    Starter("CADA", "Centre d'accueil de demandeurs d'asile", "Hébergement et accompagnement des personnes pendant leur demande d'asile."),
    Starter("CPH", "Centre provisoire d'hébergement", "Hébergement et accompagnement des réfugiés à l'obtention de leur protection."),
    Starter("FJT", "Foyer de jeunes travailleurs", "Logement temporaire et accompagnement des jeunes en début de vie active."),
    Starter("CLLAJ", "Comité local pour le logement autonome des jeunes", "Aide les jeunes à trouver un logement et à s'y maintenir."),
    Starter(
        "LHSS", "Lits halte soins santé", "Soins et hébergement temporaire de personnes sans domicile dont l'état de santé le demande."
    ),
    Starter(
        "AVDL", "Accompagnement vers et dans le logement", "Accompagnement social pour accéder à un logement et s'y installer durablement."
    ),
    Starter(
        "CCAPEX",
        "Commission de coordination des actions de prévention des expulsions locatives",
        "Commission départementale qui examine les situations d'impayés de loyer pour éviter l'expulsion.",
    ),
    # Health
    Starter("CH", "Centre hospitalier", "L'hôpital public ; son service social accompagne les patients."),
    Starter(
        "PASS",
        "Permanence d'accès aux soins de santé",
        "À l'hôpital : soins et accompagnement des personnes sans couverture sociale complète.",
    ),
    Starter("CMP", "Centre médico-psychologique", "Consultations publiques et gratuites de psychiatrie, de secteur."),
    Starter(
        "CMPP",
        "Centre médico-psycho-pédagogique",
        "Consultations et soins pour les enfants et adolescents en difficulté psychique ou d'apprentissage.",
    ),
    Starter(
        "CSAPA",
        "Centre de soins, d'accompagnement et de prévention en addictologie",
        "Soins et accompagnement gratuits des personnes ayant une addiction, et de leur entourage.",
    ),
    Starter(
        "CAARUD",
        "Centre d'accueil et d'accompagnement à la réduction des risques pour usagers de drogues",
        "Accueil sans condition, matériel de réduction des risques, accès aux droits et aux soins.",
    ),
    Starter("GEM", "Groupe d'entraide mutuelle", "Association d'entraide entre personnes vivant des troubles psychiques."),
    Starter("CLS", "Contrat local de santé", "Contrat entre l'ARS et une collectivité pour la santé de ses habitants."),
    # Children, families and protection
    Starter(
        "PMI", "Protection maternelle et infantile", "Service du Département : suivi des futures mères et des enfants de moins de 6 ans."
    ),
    Starter("ASE", "Aide sociale à l'enfance", "Service du Département qui protège les enfants en danger ou en risque de l'être."),
    Starter(
        "AEMO",
        "Action éducative en milieu ouvert",
        "Mesure de protection de l'enfance décidée par le juge : un éducateur suit l'enfant dans sa famille.",
    ),
    Starter("AED", "Aide éducative à domicile", "La même aide que l'AEMO, demandée par la famille au Département, sans juge."),
    Starter(
        "MECS",
        "Maison d'enfants à caractère social",
        "Établissement qui accueille des enfants confiés au titre de la protection de l'enfance.",
    ),
    Starter("PJJ", "Protection judiciaire de la jeunesse", "Direction du ministère de la Justice chargée des mineurs suivis par le juge."),
    Starter(
        "CAMSP",
        "Centre d'action médico-sociale précoce",
        "Dépistage et soins des enfants de moins de 6 ans présentant un handicap ou un risque de handicap.",
    ),
    Starter("IME", "Institut médico-éducatif", "Établissement pour enfants et adolescents avec une déficience intellectuelle."),
    Starter(
        "ITEP",
        "Institut thérapeutique, éducatif et pédagogique",
        "Établissement pour enfants dont les difficultés psychologiques perturbent la scolarité et la vie sociale.",
    ),
    Starter(
        "SESSAD",
        "Service d'éducation spéciale et de soins à domicile",
        "Accompagne les enfants handicapés dans leurs lieux de vie, à l'école.",
    ),
    # Adults, old age, disability
    Starter(
        "CLIC",
        "Centre local d'information et de coordination",
        "Guichet d'information des personnes âgées et de leur entourage (gérontologique).",
    ),
    Starter("EHPAD", "Établissement d'hébergement pour personnes âgées dépendantes", "Maison de retraite médicalisée."),
    Starter(
        "SSIAD",
        "Service de soins infirmiers à domicile",
        "Soins infirmiers et d'hygiène chez les personnes âgées ou handicapées, sur prescription.",
    ),
    Starter("SAVS", "Service d'accompagnement à la vie sociale", "Accompagne des adultes handicapés dans leur vie quotidienne, chez eux."),
    Starter("SAMSAH", "Service d'accompagnement médico-social pour adultes handicapés", "Le SAVS avec, en plus, des soins."),
    Starter("MJPM", "Mandataire judiciaire à la protection des majeurs", "Exerce la tutelle ou la curatelle décidée par le juge."),
    Starter(
        "MASP",
        "Mesure d'accompagnement social personnalisé",
        "Accompagnement du Département, avec l'accord de la personne, pour gérer ses prestations sociales.",
    ),
    Starter(
        "AESF",
        "Accompagnement en économie sociale et familiale",
        "Aide à la gestion du budget et de la vie quotidienne, par un ou une CESF.",
    ),
    # Justice, city, state
    Starter(
        "SPIP",
        "Service pénitentiaire d'insertion et de probation",
        "Suit les personnes condamnées, en prison ou en milieu ouvert, et prépare leur sortie.",
    ),
    Starter(
        "QPV",
        "Quartier prioritaire de la politique de la ville",
        "Quartier aux revenus les plus bas, qui bénéficie des moyens de la politique de la ville.",
    ),
    Starter(
        "CLSPD",
        "Conseil local de sécurité et de prévention de la délinquance",
        "Instance de la commune qui coordonne la prévention de la délinquance.",
    ),
    Starter(
        "EPCI",
        "Établissement public de coopération intercommunale",
        "Une intercommunalité : communauté de communes, d'agglomération, urbaine ou métropole.",
    ),
    Starter(
        "DDASS",
        "Direction départementale des affaires sanitaires et sociales",
        "Service de l'État dans le département jusqu'en 2010 (ARS et DDCS ensuite).",
    ),
    Starter("DDJS", "Direction départementale de la jeunesse et des sports", "Service de l'État dans le département jusqu'en 2010."),
    Starter("DDCS", "Direction départementale de la cohésion sociale", "Service de l'État dans le département de 2010 à 2021."),
    Starter(
        "DRJSCS", "Direction régionale de la jeunesse, des sports et de la cohésion sociale", "Service régional de l'État de 2010 à 2020."
    ),
    Starter(
        "DREETS",
        "Direction régionale de l'économie, de l'emploi, du travail et des solidarités",
        "Service régional de l'État depuis 2021 (ex-DIRECCTE et DRJSCS).",
    ),
    Starter(
        "DDETS",
        "Direction départementale de l'emploi, du travail et des solidarités",
        "Service départemental de l'État depuis 2021 (ex-DDCS et unité départementale de la DIRECCTE).",
    ),
    Starter(
        "DIRECCTE",
        "Direction régionale des entreprises, de la concurrence, de la consommation, du travail et de l'emploi",
        "Service régional de l'État de 2010 à 2021.",
    ),
    # Professions
    Starter(
        "ESF",
        "Économie sociale et familiale",
        "Le champ du conseiller ou de la conseillère ESF : budget, logement, alimentation, vie quotidienne.",
    ),
    Starter(
        "CESF",
        "Conseiller ou conseillère en économie sociale et familiale",
        "Travailleur social diplômé d'État (DE CESF) qui accompagne la vie quotidienne.",
    ),
    Starter(
        "TISF",
        "Technicien ou technicienne de l'intervention sociale et familiale",
        "Travailleur social qui intervient au domicile des familles.",
    ),
    Starter("CIO", "Centre d'information et d'orientation", "Service de l'Éducation nationale qui informe sur les études et les métiers."),
)
