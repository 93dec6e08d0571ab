"""Demo macros in English and Spanish, with documentation links and some use on demo tickets."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.loop.models import Macro

DOCS = "https://docs.aftercare.example"
MACROS = [
    ("en", "Export how-to", None, [("Exporting your data", f"{DOCS}/export")],
     "Hello {requester_name},\n\nThanks for asking about exports. You can export any table from its menu "
     "(Export > CSV); large exports arrive by e-mail.\n\nBest regards,\n{agent_name}"),
    ("en", "Need more details", "pending", [("Writing a good bug report", f"{DOCS}/bug-reports")],
     "Hello {requester_name},\n\nTo look into {ticket_number} we need a little more: the page address, what you "
     "clicked, and a screenshot if you can.\n\nBest regards,\n{agent_name}"),
    ("en", "Solved: password reset", "solved", [("Resetting a password", f"{DOCS}/password-reset")],
     "Hello {requester_name},\n\nWe reset the password for your user at {account_name}; the article below walks "
     "through changing it.\n\nBest regards,\n{agent_name}"),
    ("en", "Feature request logged", "solved", [("Our public roadmap", f"{DOCS}/roadmap")],
     "Hello {requester_name},\n\nThank you for the idea. We added it to our roadmap and will write to you when "
     "work starts and when it ships.\n\nBest regards,\n{agent_name}"),
    ("es", "Cómo exportar", None, [("Exportar tus datos", f"{DOCS}/es/export")],
     "Hola {requester_name}:\n\nGracias por preguntar por las exportaciones. Puedes exportar cualquier tabla desde "
     "su menú (Exportar > CSV); las exportaciones grandes llegan por correo.\n\nUn saludo,\n{agent_name}"),
    ("es", "Necesitamos más detalles", "pending", [("Cómo informar de un error", f"{DOCS}/es/bug-reports")],
     "Hola {requester_name}:\n\nPara revisar {ticket_number} necesitamos un poco más: la dirección de la página, "
     "qué pulsaste y, si puedes, una captura.\n\nUn saludo,\n{agent_name}"),
    ("es", "Resuelto: cambio de contraseña", "solved", [("Cambiar la contraseña", f"{DOCS}/es/password-reset")],
     "Hola {requester_name}:\n\nHemos restablecido la contraseña de tu usuario en {account_name}; el artículo "
     "explica cómo cambiarla.\n\nUn saludo,\n{agent_name}"),
]


def seed(*, session: Session, rng: random.Random, now: datetime, days: int, tickets: int) -> None:
    """Add the demo macros (skipping ones that exist) with plausible usage counts."""
    existing = set(session.execute(select(Macro.title, Macro.language)).tuples())
    for language, title, status, links, body in MACROS:
        if (title, language) in existing:
            continue
        uses = rng.randint(3, 60) if language == "en" else rng.randint(1, 20)
        session.add(Macro(title=title, language=language, status=status, body=body,
                          doc_links=[{"title": t, "url": u} for t, u in links], usage_count=uses,
                          last_used_at=now - timedelta(hours=rng.randint(1, 24 * min(days, 30))),
                          created_at=now - timedelta(days=days), updated_at=now - timedelta(days=days)))
    session.flush()
