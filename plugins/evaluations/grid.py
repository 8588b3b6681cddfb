"""The default questionnaire: seed 002's grid for analysing a partnership (« ce qui fonctionne,
les freins, le pilotage, la communication, le retour du public, l'évolution envisagée »),
plus four scales the yearly evaluation can compare from one year to the next."""

from __future__ import annotations

from plugins.evaluations.events import Question

DEFAULT_TITLE = "Évaluation du partenariat"
DEFAULT_INTRO = (
    "Ce court questionnaire prépare l'évaluation annuelle du partenariat. Une réponse par structure ; "
    "vous pouvez la modifier jusqu'à la clôture."
)
DEFAULT_QUESTIONS: tuple[Question, ...] = (
    Question(key="fonctionne", kind="text", label="Ce qui fonctionne dans le partenariat, et pourquoi"),
    Question(
        key="freins",
        kind="text",
        label="Les limites, freins ou difficultés rencontrés (cadre, temporalité, implication inégale, intérêts divergents…)",
    ),
    Question(key="pilotage", kind="text", label="La coordination et le pilotage : sont-ils équitables pour l'ensemble des partenaires ?"),
    Question(key="communication", kind="text", label="La communication entre partenaires"),
    Question(key="retour_public", kind="text", label="Le retour du public accompagné (sans nommer personne)"),
    Question(key="evolution", kind="text", label="L'évolution que vous envisagez pour le partenariat"),
    Question(key="note_interet", kind="scale", label="Intérêt du partenariat pour votre structure"),
    Question(key="note_pilotage", kind="scale", label="Équité de la coordination et du pilotage"),
    Question(key="note_communication", kind="scale", label="Qualité de la communication entre partenaires"),
    Question(key="note_connaissance", kind="scale", label="Connaissance des missions de chaque partenaire"),
)
SCALE = {1: "1 — pas du tout", 2: "2 — peu", 3: "3 — moyennement", 4: "4 — plutôt", 5: "5 — tout à fait"}
KINDS = {"text": "Réponse libre", "scale": "Échelle de 1 à 5"}
SECRECY = (
    "Ne nommez aucune personne accompagnée, ni rien qui permette de la reconnaître (secret partagé) : "
    "parlez du partenariat, pas des situations."
)
