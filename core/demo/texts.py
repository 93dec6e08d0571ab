"""Ticket texts for demo data, in English and Spanish, per category (subject, description)."""

TEXTS = {
    "bug": {
        "en": [
            ("Agent run fails with error 500", "Every time I start the onboarding agent it stops after the first step with 'Internal error 500'. Started this morning."),
            ("Webhook not firing after update", "Since yesterday's release our webhook endpoint receives nothing when a workflow finishes. The logs say delivered."),
            ("Export to CSV crashes", "Clicking Export on the runs table shows a blank page and the file never downloads."),
            ("Cannot save workflow", "The save button spins forever and then my changes are gone when I reload."),
            ("Wrong timezone in run history", "Run history shows times one hour off from what our team sees. We are in Madrid."),
            ("API returns 401 with a valid key", "Our integration suddenly gets 401 Unauthorized although the API key is active in the dashboard."),
            ("Duplicate messages sent by agent", "The support agent replies twice to the same customer message, about half the time."),
            ("Dashboard charts empty", "All the charts on the usage dashboard are empty since Monday, the numbers table still works."),
        ],
        "es": [
            ("El agente falla con error 500", "Cada vez que lanzo el agente de onboarding se para en el primer paso con 'Error interno 500'."),
            ("El webhook no se dispara", "Desde la actualización de ayer nuestro endpoint no recibe nada cuando termina un flujo."),
            ("No puedo guardar el flujo", "El botón de guardar se queda girando y al recargar se pierden los cambios."),
            ("La API devuelve 401 con una clave válida", "Nuestra integración recibe 401 aunque la clave está activa en el panel."),
            ("Mensajes duplicados", "El agente responde dos veces al mismo mensaje del cliente, más o menos la mitad de las veces."),
        ],
    },
    "question": {
        "en": [
            # Ambiguous on purpose (a limit or a fault?): the categoriser is unsure here, and agents correct it.
            ("Is the new run limit a bug?", "Since the update our agents stop after 50 runs a day. Is that a limit of our plan or is something broken?"),
            ("How do I rotate API keys?", "We need to rotate our keys every 90 days. Is there a way to do it without downtime?"),
            ("Can agents call our internal API?", "Is it possible for an agent to call an endpoint inside our VPN, and how do we set it up?"),
            ("Where can I see token usage?", "I'd like to see how many tokens each workflow consumed last month. Where is that?"),
            ("Adding a teammate", "How do I invite a colleague to our workspace with read-only access?"),
            ("Difference between draft and published", "What happens to running conversations when I publish a new version of an agent?"),
            ("SSO setup", "Do you support SAML single sign-on with Okta? Any guide we can follow?"),
        ],
        "es": [
            ("¿Cómo roto las claves de la API?", "Tenemos que rotar las claves cada 90 días. ¿Se puede hacer sin cortar el servicio?"),
            ("¿Dónde veo el consumo de tokens?", "Quiero ver cuántos tokens gastó cada flujo el mes pasado."),
            ("Invitar a un compañero", "¿Cómo invito a un compañero con acceso de solo lectura?"),
            ("Configurar SSO", "¿Tenéis SAML con Okta? ¿Hay alguna guía?"),
        ],
    },
    "feature": {
        "en": [
            ("Agents should retry failed webhooks", "When our endpoint is down for a minute the webhook is lost and the run shows an error. Could the agent retry later?"),
            ("Please add Slack approvals", "It would be great if an agent could ask for approval in Slack before sending a refund."),
            ("Feature request: version diff", "We would love to see a diff between two versions of an agent's prompt."),
            ("Support for Microsoft Teams", "Our company uses Teams, not Slack. Any plans for a Teams integration?"),
            ("Bulk edit of workflows", "Could you add a way to change the model of many workflows at once?"),
            ("Dark mode", "Many of us work at night, a dark theme for the dashboard would help."),
        ],
        "es": [
            ("Reintentar webhooks fallidos", "Si nuestro endpoint no responde un minuto se pierde el webhook y la ejecución da error. ¿Podría el agente reintentarlo?"),
            ("Integración con Microsoft Teams", "Usamos Teams y no Slack, ¿tenéis pensado integrarlo?"),
            ("Sugerencia: comparar versiones", "Nos encantaría ver las diferencias entre dos versiones de un prompt."),
            ("Modo oscuro", "Sería genial tener un tema oscuro para el panel."),
        ],
    },
    "performance": {
        "en": [
            ("Export is very slow and then fails", "Exporting the runs table takes several minutes and sometimes ends with an error page."),
            ("Dashboard takes forever to load", "The runs page takes more than 30 seconds to open for our workspace."),
            ("Agent responses are slow", "Replies from our sales agent take 20 seconds now, last week it was 3."),
            ("API latency spikes", "We see p99 latency above 8 s on the completions endpoint every afternoon."),
            ("Timeouts on large workflows", "Workflows with more than 50 steps time out before finishing."),
        ],
        "es": [
            ("La exportación tarda y falla", "Exportar la tabla de ejecuciones tarda varios minutos y a veces termina con una página de error."),
            ("El panel tarda muchísimo", "La página de ejecuciones tarda más de 30 segundos en abrir."),
            ("Respuestas lentas del agente", "Las respuestas tardan 20 segundos, la semana pasada eran 3."),
        ],
    },
    "billing": {
        "en": [
            ("Charged for seats we removed?", "We removed three seats last month but the invoice still counts them. How are seats counted?"),
            ("Charged twice this month", "Our card was charged twice for the November invoice. Please refund one."),
            ("Invoice needs our VAT number", "Can you reissue invoice INV-2291 with our VAT number and new address?"),
            ("Upgrade to Enterprise", "We want to move from Pro to Enterprise mid-cycle. How is it prorated?"),
            ("Cancel extra seats", "We removed 5 users but we are still paying for 20 seats."),
        ],
        "es": [
            ("Cobro duplicado", "Nos habéis cobrado dos veces la factura de noviembre. Necesitamos el reembolso."),
            ("Factura con NIF", "¿Podéis emitir de nuevo la factura con nuestro NIF y la dirección nueva?"),
        ],
    },
}

COMPANIES = [
    "Acme Logistics", "Bluefin Health", "Cobalt Bank", "Dunmore Retail", "Evergreen Energy", "Faro Seguros",
    "Granite Legal", "Helix Pharma", "Iberia Travel Co", "Juniper Schools", "Kestrel Media", "Lumen Telecom",
    "Mistral Foods", "Northwind Traders", "Orbital Games", "Pampa Agro", "Quasar Labs", "Rivera Inmobiliaria",
    "Sable Insurance", "Tundra Outdoor", "Umbra Security", "Vega Motors", "Willow Care", "Xenon Analytics",
    "Yunque Construcción", "Zephyr Airlines", "Atlas Freight", "Brisa Hoteles", "Cima Consulting", "Delta Dental",
    "Estrella Retail", "Fjord Shipping", "Golondrina Apps", "Harbor Credit", "Indigo Fashion", "Jade Pharmacy",
    "Kappa Robotics", "Lince Telecom", "Magnolia Clinics", "Nimbus Cloud",
]
FIRST = ["Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hugo", "Irene", "Jon", "Kira", "Luis",
         "Marta", "Nico", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Teresa"]
LAST = ["García", "Smith", "López", "Brown", "Martín", "Wilson", "Sánchez", "Taylor", "Pérez", "Moore"]
