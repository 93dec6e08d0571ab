"""Demo macros in English and Spanish, with documentation links and some use on demo tickets."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import User
from core.loop.models import Macro, MacroUse
from core.tickets.models import Ticket

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
    """Add the demo macros (skipping ones that exist) and their uses on demo tickets over the last weeks."""
    existing = set(session.execute(select(Macro.title, Macro.language)).tuples())
    added = []
    for language, title, status, links, body in MACROS:
        if (title, language) in existing:
            continue
        m = Macro(title=title, language=language, status=status, body=body,
                  doc_links=[{"title": t, "url": u} for t, u in links],
                  created_at=now - timedelta(days=days), updated_at=now - timedelta(days=days))
        session.add(m)
        added.append(m)
    session.flush()
    if not added:
        return
    staff = list(session.scalars(select(User.id).where(User.role.in_(("agent", "support_lead")))))
    by_lang = {lang: list(session.scalars(
        select(Ticket.id).where(Ticket.language == lang, Ticket.category.in_(("question", "bug", "feature")))
        .order_by(Ticket.id).limit(2000))) for lang in ("en", "es")}
    for m in added:
        pool = by_lang.get(m.language) or by_lang["en"]
        if not pool:
            continue
        n = rng.randint(4, 40) if m.language == "en" else rng.randint(1, 12)
        ats = sorted(now - timedelta(minutes=rng.randint(10, 60 * 24 * min(days, 45))) for _ in range(n))
        for at in ats:
            session.add(MacroUse(macro_id=m.id, ticket_id=rng.choice(pool), at=at,
                                 user_id=rng.choice(staff) if staff else None))
        m.usage_count, m.last_used_at = n, ats[-1]
    session.flush()
