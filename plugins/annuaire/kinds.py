"""The maintained list of structure kinds of the directory (annuaire).

Each kind carries the matching code of the national data·inclusion schema
(referential "typologies de structures", GIP de l'inclusion) so that a
territory's directory can be exported to, or matched against, the national
one. Where the referential has no code for a kind, ``typologie`` is ``None``
and an export falls back to ``TYPOLOGIE_AUTRE``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str  # our stable slug, never renamed once used in events
    label: str  # French label shown to users
    acronym: str  # the acronym professionals actually say
    typologie: str | None  # data·inclusion "typologie" code, None when there is none
    public: bool  # public body (True) or private, e.g. an association (False)


#: The data·inclusion catch-all code (spelt exactly so in the referential).
TYPOLOGIE_AUTRE = "Autre"

KINDS: tuple[Kind, ...] = (
    # --- Collectivités et action sociale de proximité -------------------------
    Kind(
        "ccas",
        "CCAS (centre communal d'action sociale)",
        "CCAS",
        "CCAS",
        True,
    ),
    Kind(
        "cias",
        "CIAS (centre intercommunal d'action sociale)",
        "CIAS",
        "CIAS",
        True,
    ),
    Kind(
        "mairie",
        "Mairie, services municipaux (politique de la ville, enfance-jeunesse…)",
        "Mairie",
        "MUNI",
        True,
    ),
    Kind(
        "conseil-departemental",
        "Conseil départemental (ex-Conseil général)",
        "CD",
        # "CD" is the institution; "DEPT" (its social services) resolves here
        # too, see _TYPOLOGIE_ALIASES.
        "CD",
        True,
    ),
    Kind(
        "mds",
        "MDS (maison départementale des solidarités)",
        "MDS",
        "MDS",
        True,
    ),
    Kind(
        "cms",
        "Centre médico-social (CMS) / circonscription d'action sociale du Département",
        "CMS",
        "CMS",
        True,
    ),
    Kind(
        "pmi",
        "PMI (protection maternelle et infantile)",
        "PMI",
        None,  # no data·inclusion code; a service of the Département
        True,
    ),
    # --- Organismes de sécurité sociale ---------------------------------------
    Kind(
        "caf",
        "CAF (caisse d'allocations familiales)",
        "CAF",
        "CAF",
        True,  # private-law body with a public-service mission: counted as public
    ),
    Kind(
        "cpam",
        "CPAM (caisse primaire d'assurance maladie)",
        "CPAM",
        "CPAM",
        True,  # private-law body with a public-service mission: counted as public
    ),
    Kind(
        "carsat",
        "CARSAT (ex-CRAM), service social de l'Assurance retraite et maladie",
        "CARSAT",
        None,  # no data·inclusion code (neither CARSAT nor CRAM)
        True,  # private-law body with a public-service mission: counted as public
    ),
    Kind(
        "msa",
        "MSA (mutualité sociale agricole)",
        "MSA",
        "MSA",
        True,  # private-law body with a public-service mission: counted as public
    ),
    # --- Handicap, famille, protection ----------------------------------------
    Kind(
        "mdph",
        "MDPH (maison départementale des personnes handicapées)",
        "MDPH",
        "MDPH",
        True,
    ),
    Kind(
        "esms-handicap",
        "Service médico-social pour adultes handicapés (SAVS, SAMSAH…)",
        "SAVS",
        None,  # no data·inclusion code
        False,
    ),
    Kind(
        "udaf",
        "UDAF (union départementale des associations familiales)",
        "UDAF",
        "UDAF",
        False,
    ),
    Kind(
        "mjpm",
        "Service mandataire judiciaire à la protection des majeurs (MJPM)",
        "MJPM",
        None,  # no data·inclusion code
        False,
    ),
    Kind(
        "eaje",
        "Crèche, multi-accueil (établissement d'accueil du jeune enfant)",
        "EAJE",
        None,  # only the specific "AVIP" crèche has a data·inclusion code
        True,
    ),
    Kind(
        "cidff",
        "CIDFF (centre d'information sur les droits des femmes et des familles)",
        "CIDFF",
        "CIDFF",
        False,
    ),
    # --- Santé ----------------------------------------------------------------
    Kind(
        "centre-hospitalier",
        "Centre hospitalier, service social hospitalier",
        "CH",
        None,  # no specific code; the closest is the generic "ETABL_PUB"
        True,
    ),
    Kind(
        "cmp",
        "CMP (centre médico-psychologique), CMPE / CMPP",
        "CMP",
        "CMP",
        True,
    ),
    Kind(
        "csapa",
        "CSAPA (centre de soins, d'accompagnement et de prévention en addictologie)",
        "CSAPA",
        "CSAPA",
        False,
    ),
    Kind(
        "clic",
        "CLIC (centre local d'information et de coordination gérontologique)",
        "CLIC",
        None,  # no data·inclusion code
        True,
    ),
    # --- Hébergement et logement ----------------------------------------------
    Kind(
        "chrs",
        "CHRS (centre d'hébergement et de réinsertion sociale)",
        "CHRS",
        "CHRS",
        False,
    ),
    Kind(
        "residence-sociale",
        "Résidence sociale, foyer de jeunes travailleurs (FJT)",
        "RS",
        "RS_FJT",
        False,
    ),
    Kind(
        "maison-relais",
        "Maison relais / pension de famille",
        "Maison relais",
        "PENSION",
        False,
    ),
    Kind(
        "bailleur-social",
        "Bailleur social (office public de l'habitat, ESH)",
        "HLM",
        None,  # no data·inclusion code
        True,
    ),
    # --- Emploi, formation, insertion par l'activité économique ---------------
    Kind(
        "france-travail",
        "France Travail (ex-Pôle emploi, issu en 2008 de l'ANPE et des Assédic)",
        "FT",
        # "FT" since 2024; the referential's former code "PE" resolves here too.
        "FT",
        True,
    ),
    Kind(
        "mission-locale",
        "Mission locale (insertion des jeunes de 16 à 25 ans)",
        "ML",
        "ML",
        False,  # usually an association, sometimes a GIP
    ),
    Kind(
        "maison-emploi",
        "Maison de l'emploi (et de la formation)",
        "MDE",
        "MDE",
        False,  # association or GIP
    ),
    Kind(
        "plie",
        "PLIE (plan local pour l'insertion et l'emploi)",
        "PLIE",
        "PLIE",
        True,
    ),
    Kind(
        "cap-emploi",
        "Cap emploi (emploi des personnes handicapées)",
        "Cap emploi",
        "CAP_EMPLOI",
        False,
    ),
    Kind(
        "organisme-formation",
        "Organisme ou centre de formation professionnelle",
        "OF",
        "OF",
        False,
    ),
    Kind(
        "aci",
        "Atelier et chantier d'insertion (ACI, structure de l'IAE)",
        "ACI",
        "ACI",
        False,
    ),
    Kind(
        "ei",
        "Entreprise d'insertion (EI, structure de l'IAE)",
        "EI",
        "EI",
        False,
    ),
    Kind(
        "etti",
        "Entreprise de travail temporaire d'insertion (ETTI, structure de l'IAE)",
        "ETTI",
        "ETTI",
        False,
    ),
    Kind(
        "ai",
        "Association intermédiaire (AI, structure de l'IAE)",
        "AI",
        "AI",
        False,
    ),
    # --- Justice, État ----------------------------------------------------------
    Kind(
        "spip",
        "SPIP (service pénitentiaire d'insertion et de probation)",
        "SPIP",
        "SPIP",
        True,
    ),
    Kind(
        "etat",
        "Service de l'État (DDJS, DRJSCS, DDETS, préfecture, police, ARS…)",
        "État",
        "ETAT",
        True,
    ),
    # --- Éducation, jeunesse, vie des quartiers -------------------------------
    Kind(
        "ecole",
        "École, établissement scolaire, service social en faveur des élèves",
        "École",
        None,  # no specific code; the closest is the generic "ETABL_PUB"
        True,
    ),
    Kind(
        "prevention-specialisee",
        "Prévention spécialisée (éducateurs de rue, club de prévention)",
        "Prévention",
        "PREVENTION",
        False,
    ),
    Kind(
        "centre-social",
        "Centre social (ou socioculturel)",
        "CS",
        "CS",
        False,  # municipal ones are public: the structure's own flag says so
    ),
    # --- Associations ---------------------------------------------------------
    Kind(
        "association-caritative",
        "Association caritative (aide alimentaire, vestiaire, accueil de jour…)",
        "Asso. caritative",
        "ASSO",
        False,
    ),
    Kind(
        "association",
        "Association (autre : éducation populaire, accès aux droits, culture…)",
        "Asso.",
        "ASSO",
        False,
    ),
    Kind(
        "autre",
        "Autre structure",
        "Autre",
        TYPOLOGIE_AUTRE,
        False,
    ),
)

PARTNER_ROLES: dict[str, str] = {
    "terrain": "Acteur de terrain",
    "financeur": "Financeur / commanditaire",
    "prescripteur": "Prescripteur",
    "interne": "Partenaire interne",
}

THEMES: dict[str, str] = {
    "logement": "Logement, hébergement",
    "sante": "Santé",
    "emploi-insertion": "Emploi, insertion",
    "famille": "Famille, parentalité",
    "jeunesse": "Jeunesse",
    "handicap": "Handicap",
    "acces-aux-droits": "Accès aux droits",
    "alimentation": "Alimentation",
    "mobilite": "Mobilité",
    "culture": "Culture, loisirs",
    "violences": "Violences conjugales et intrafamiliales",
    "personnes-agees": "Personnes âgées",
    "budget": "Budget, surendettement",
    "education": "Éducation, scolarité",
}

_BY_CODE: dict[str, Kind] = {kind.code: kind for kind in KINDS}

#: Codes shared by several kinds, generic ones and former or sibling codes of
#: the referential, each resolved to the one kind a lookup should return.
_TYPOLOGIE_ALIASES: dict[str, str] = {
    "ASSO": "association",  # shared with "association-caritative"
    "PE": "france-travail",  # former code of Pôle emploi, replaced by "FT"
    "DEPT": "conseil-departemental",  # social services of the Département
    "CDAS": "mds",
    "MDEF": "maison-emploi",
    "CSC": "centre-social",
    "SCP": "prevention-specialisee",
    "ACIPHC": "aci",
    "DEETS": "etat",
    "PREF": "etat",
}

# Where several kinds share a code, the first in KINDS wins (hence reversed);
# the aliases then settle shared and former codes explicitly.
_BY_TYPOLOGIE: dict[str, Kind] = {kind.typologie.upper(): kind for kind in reversed(KINDS) if kind.typologie}
_BY_TYPOLOGIE.update({code: _BY_CODE[slug] for code, slug in _TYPOLOGIE_ALIASES.items()})


def kind_by_code(code: str) -> Kind | None:
    """The kind with this slug, or None."""
    return _BY_CODE.get(code)


def kind_by_typologie(code: str) -> Kind | None:
    """The kind for a data·inclusion typologie code (case-insensitive), or None."""
    return _BY_TYPOLOGIE.get(code.strip().upper())
