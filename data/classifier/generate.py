"""Builds data/classifier/generated.jsonl: labelled tickets from templates and slot fillers (deterministic).

Run `python data/classifier/generate.py` after editing the templates; the output is committed so the
shipped model can be retrained without running this. Hand-written examples live in handwritten.jsonl;
the held-out test set (holdout.jsonl) is written by hand in a different style and never used to train.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261125
PER_CATEGORY_LANG = {"en": 190, "es": 150}

# Slot fillers shared by every category: product nouns appear in all five categories on purpose, so
# the model learns the intent words rather than "webhook means bug".
SLOTS = {
    "en": {
        "obj": ["agent", "workflow", "run", "API key", "webhook", "integration", "dashboard", "knowledge base",
                "scheduled trigger", "prompt template", "custom tool", "connector", "chat widget", "REST API",
                "Python SDK", "CLI", "audit log", "usage report", "team settings page", "run history",
                "agent builder", "playground", "workflow editor", "analytics tab", "vector store", "eval suite"],
        "integ": ["Slack", "Salesforce", "HubSpot", "Zendesk", "Google Drive", "Notion", "Jira", "GitHub",
                  "Microsoft Teams", "Gmail", "Outlook", "Shopify", "Stripe", "Intercom", "Airtable",
                  "Snowflake", "BigQuery", "Confluence", "SharePoint", "Twilio", "WhatsApp", "Zapier"],
        "page": ["dashboard", "runs page", "agent editor", "workflow builder", "settings page", "analytics tab",
                 "logs view", "playground", "knowledge base page", "members page", "API keys page", "usage page",
                 "home page", "integrations page", "run details view"],
        "when": ["since yesterday", "since this morning", "after your last update", "since the release on Monday",
                 "for two days now", "since we upgraded", "today", "since last week", "from time to time",
                 "every single time", "since Friday", "randomly", "for about an hour", "again"],
        "dur": ["30 seconds", "2 minutes", "over a minute", "5+ minutes", "forever", "ages", "like 40s",
                "10 minutes", "almost an hour", "20-30 seconds", "several minutes", "way too long", "90 seconds"],
        "err": ["a 500 error", "error 502 Bad Gateway", "403 Forbidden", "401 Unauthorized", "a blank white screen",
                "'Something went wrong'", "TypeError: cannot read properties of undefined",
                "'Unexpected token < in JSON'", "error code AG-1043", "422 Unprocessable Entity",
                "'run failed: tool_call_error'", "ECONNRESET", "a red banner saying 'Internal error'",
                "'Invalid state'", "an 'Oops' page", "NullPointerException in the logs", "'schema validation failed'"],
        "amount": ["$49", "$1,200", "$300", "$99.00", "twice the usual amount", "$2,340.50", "$89", "$4,800",
                   "$19", "$612.40"],
        "plan": ["Starter", "Pro", "Enterprise", "Team", "Business", "Growth"],
        "plan2": ["Starter", "Pro", "Team", "free", "Growth"],
        "n": ["3", "5", "10", "12", "25", "40", "2", "8", "15"],
        "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December", "last month", "this month"],
        "invno": ["INV-2024-0193", "INV-88213", "#10482", "AC-INV-5521", "2025-0042", "INV-7730"],
        "lat": ["800ms", "3s", "4 seconds", "12s", "2.5s", "6 seconds", "15s"],
        "ws": ["acme-prod", "northwind", "globex-eu", "our staging workspace", "ws_48213", "initech", "umbrella-ops",
               "the marketing workspace"],
        "browser": ["Chrome on Windows 11", "Safari on macOS", "Firefox", "Edge", "the mobile app", "Chrome on a Mac",
                    "Brave", "Chrome 131"],
        "action": ["save the agent", "publish the workflow", "run the agent", "create a new API key",
                   "connect {integ}", "upload a PDF to the knowledge base", "open the run details",
                   "edit the prompt", "delete the webhook", "invite a teammate", "duplicate a workflow",
                   "export the runs", "test the webhook", "rename the agent", "add a tool to the agent",
                   "switch the model", "log in with SSO", "filter runs by status"],
        "feat": ["dark mode", "exporting runs to CSV", "SAML SSO with Okta", "per-workflow permissions",
                 "a Terraform provider", "version history for prompts", "a Spanish interface",
                 "cron expressions for schedules", "bulk editing agents", "a Microsoft Teams integration",
                 "custom domains for the chat widget", "configurable webhook retries", "audit log export to S3",
                 "A/B testing of prompts", "a staging environment", "comments on workflows",
                 "undo/redo in the workflow builder", "hardware security keys for 2FA", "usage alerts by email",
                 "scopes for API keys", "an on-prem option", "folders to organise agents",
                 "keyboard shortcuts", "more models to choose from", "streaming in the SDK", "a Go SDK",
                 "cost limits per agent", "PDF export of dashboards", "a mobile app", "SCIM provisioning",
                 "webhook payload templates", "sharing an agent with a public link", "a read-only role",
                 "tags on runs", "an approval step before an agent sends emails", "a changelog in the app",
                 "saved filters on the runs page", "a Pipedrive integration", "multiple knowledge bases per agent",
                 "scheduling reports to email", "an IP allowlist", "human handoff in the chat widget"],
        "howto": ["rotate an API key", "invite a teammate", "connect Slack", "set up a webhook",
                  "schedule a workflow to run every night", "give an agent access to our Google Drive",
                  "export the run history", "change the model an agent uses", "limit who can edit a workflow",
                  "delete a workspace", "reset my password", "test an agent before publishing it",
                  "use variables in a prompt", "see the logs of a failed run", "turn on SSO",
                  "add a website to the knowledge base", "call an agent from our backend",
                  "send custom headers in a webhook", "make the agent answer in Spanish",
                  "transfer ownership of the workspace", "duplicate a workflow", "verify webhook signatures",
                  "set environment variables for a tool", "embed the chat widget in our site",
                  "move an agent to another workspace", "pause a schedule", "see who changed a workflow",
                  "restrict an API key to one agent", "retry a failed run", "add a human approval step"],
    },
    "es": {
        "obj": ["agente", "flujo", "flujo de trabajo", "la ejecución", "la API key", "el webhook", "la integración",
                "el panel", "la base de conocimiento", "el disparador programado", "la plantilla de prompt",
                "la herramienta personalizada", "el conector", "el widget de chat", "la API REST", "el SDK de Python",
                "el registro de auditoría", "el informe de uso", "el historial de ejecuciones", "el editor de agentes",
                "el playground", "el editor de flujos", "la pestaña de analítica"],
        "integ": ["Slack", "Salesforce", "HubSpot", "Zendesk", "Google Drive", "Notion", "Jira", "GitHub",
                  "Microsoft Teams", "Gmail", "Outlook", "Shopify", "Stripe", "WhatsApp", "Holded", "Odoo",
                  "Zapier", "Airtable"],
        "page": ["el panel", "la página de ejecuciones", "el editor de agentes", "el constructor de flujos",
                 "la configuración", "la analítica", "los logs", "el playground", "la página de miembros",
                 "la página de claves API", "la página de uso", "la página de inicio", "las integraciones"],
        "when": ["desde ayer", "desde esta mañana", "desde la última actualización", "desde el lunes",
                 "desde hace dos días", "hoy", "desde la semana pasada", "de vez en cuando", "siempre",
                 "otra vez", "desde el viernes", "aleatoriamente", "desde hace una hora"],
        "dur": ["30 segundos", "2 minutos", "más de un minuto", "5 minutos o más", "una eternidad", "siglos",
                "como 40 segundos", "10 minutos", "casi una hora", "muchísimo", "un montón de tiempo", "90 segundos"],
        "err": ["un error 500", "error 502", "403 Forbidden", "401 Unauthorized", "una pantalla en blanco",
                "'Algo salió mal'", "'Something went wrong'", "el código de error AG-1043", "un error 422",
                "'run failed: tool_call_error'", "un aviso rojo de 'Error interno'", "'Estado no válido'",
                "una página de 'Ups'", "'schema validation failed'"],
        "amount": ["49 €", "1.200 €", "300 €", "99,00 €", "el doble de lo normal", "2.340,50 €", "89 €", "4.800 €",
                   "19 €", "612,40 €"],
        "plan": ["Starter", "Pro", "Enterprise", "Team", "Business", "Growth"],
        "plan2": ["Starter", "Pro", "Team", "gratuito", "Growth"],
        "n": ["3", "5", "10", "12", "25", "40", "2", "8", "15"],
        "month": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                  "octubre", "noviembre", "diciembre", "el mes pasado", "este mes"],
        "invno": ["FAC-2024-0193", "F-88213", "nº 10482", "AC-INV-5521", "2025/0042", "FAC-7730"],
        "lat": ["800 ms", "3 s", "4 segundos", "12 s", "2,5 s", "6 segundos", "15 s"],
        "ws": ["acme-prod", "northwind", "globex-eu", "nuestro espacio de pruebas", "ws_48213", "tiendas-norte",
               "el espacio de marketing"],
        "browser": ["Chrome en Windows 11", "Safari en Mac", "Firefox", "Edge", "la app móvil", "Chrome"],
        "action": ["guardar el agente", "publicar el flujo", "ejecutar el agente", "crear una API key nueva",
                   "conectar {integ}", "subir un PDF a la base de conocimiento", "abrir el detalle de una ejecución",
                   "editar el prompt", "borrar el webhook", "invitar a un compañero", "duplicar un flujo",
                   "exportar las ejecuciones", "probar el webhook", "renombrar el agente", "añadir una herramienta",
                   "cambiar el modelo", "entrar con SSO", "filtrar por estado"],
        "feat": ["modo oscuro", "exportar ejecuciones a CSV", "SSO con Okta", "permisos por flujo",
                 "un proveedor de Terraform", "historial de versiones de los prompts", "la interfaz en español",
                 "expresiones cron en las programaciones", "edición masiva de agentes", "integración con Teams",
                 "dominio propio para el widget", "reintentos configurables en los webhooks",
                 "exportar el registro de auditoría", "pruebas A/B de prompts", "un entorno de staging",
                 "comentarios en los flujos", "deshacer en el editor de flujos", "llaves de seguridad para 2FA",
                 "alertas de consumo por email", "permisos por API key", "una versión on-premise",
                 "carpetas para organizar agentes", "atajos de teclado", "más modelos para elegir",
                 "un SDK para Go", "límites de gasto por agente", "exportar el panel a PDF", "una app móvil",
                 "integración con Holded", "compartir un agente con un enlace público", "un rol de solo lectura",
                 "etiquetas en las ejecuciones", "un paso de aprobación antes de enviar correos",
                 "filtros guardados", "varias bases de conocimiento por agente", "traspaso a un humano en el chat"],
        "howto": ["rotar una API key", "invitar a un compañero", "conectar Slack", "configurar un webhook",
                  "programar un flujo cada noche", "dar acceso a Google Drive a un agente",
                  "exportar el historial de ejecuciones", "cambiar el modelo de un agente",
                  "limitar quién edita un flujo", "borrar un espacio de trabajo", "restablecer mi contraseña",
                  "probar un agente antes de publicarlo", "usar variables en un prompt",
                  "ver los logs de una ejecución fallida", "activar el SSO", "añadir una web a la base de conocimiento",
                  "llamar a un agente desde nuestro backend", "hacer que el agente conteste en español",
                  "transferir la propiedad del espacio", "verificar la firma de los webhooks",
                  "poner el widget de chat en nuestra web", "pausar una programación",
                  "ver quién modificó un flujo", "reintentar una ejecución fallida"],
    },
}

# Per category and language: subjects and bodies. {slot} picks a filler once per ticket, so the subject and
# the body of one ticket talk about the same thing.
TEMPLATES = {
    "bug": {
        "en": {
            "subjects": [
                "{obj} broken", "Error when I try to {action}", "Getting {err}", "{integ} integration stopped working",
                "Can't {action}", "{obj} not working {when}", "Webhook fires twice", "Agent ignores its instructions",
                "Save button does nothing", "Runs marked as succeeded but output is empty", "Wrong numbers on {page}",
                "Bug in {page}", "Problem with {obj}", "something is off with {obj}", "{page} shows nothing",
                "Logged out constantly", "Variables not replaced in prompt", "Duplicate messages in {integ}",
                "Scheduled runs not starting", "Export file is corrupted", "Accents broken in agent replies",
                "New API key rejected", "Chat widget not showing on our site", "{err} on {page}",
                "URGENT: production agent down", "weird behaviour", "Issue after update", "it's broken again",
                "Dates are wrong in the run log", "Can't delete {obj}", "Settings don't stick",
            ],
            "bodies": [
                "When I try to {action} I get {err}.",
                "Every time I {action} the page shows {err}. This started {when}.",
                "The {obj} is broken {when}. I click the button and nothing happens, no error, nothing.",
                "Steps to reproduce: open the {page}, try to {action}, see {err}. Expected it to just work.",
                "Our {integ} integration stopped posting messages {when}. The runs say 'success' but nothing arrives in {integ}.",
                "Webhook payloads arrive with an empty body. Our endpoint logs show the request but no JSON.",
                "The webhook is delivered two or three times for the same event, so our system creates duplicates.",
                "The agent doesn't follow the system prompt anymore, it answers things it was told not to.",
                "Runs finish with status succeeded but the output field is empty.",
                "The run counter on the {page} says 0 even though we had hundreds of runs {when}.",
                "Timestamps in the run log are one hour off since the clocks changed.",
                "I get logged out every few minutes and have to sign in again.",
                "The agent replies twice to every message in {integ}.",
                "The workflow skips the approval step and sends the email directly.",
                "The CSV export has the columns shifted, the status ends up under the date.",
                "Special characters like ñ, é and ü come out as garbage in the agent's answers.",
                "I can't delete the {obj}: the confirmation dialog just closes and it's still there.",
                "I switch the toggle on, save, reload, and it's off again.",
                "The API returns 200 OK but the agent is not updated.",
                "The chat widget doesn't appear on our website anymore, the script loads but the bubble is missing.",
                "New API keys don't work, every call with them returns 401 Unauthorized.",
                "I uploaded a PDF and the agent keeps saying it has no documents.",
                "Filtering the runs page by agent shows runs from other agents.",
                "The prompt variables are not filled in, the customer literally receives 'Hello {{name}}'.",
                "{err} when opening the {page} in {browser}. Other pages work.",
                "Our scheduled trigger didn't fire last night, nothing in the run history.",
                "The edit I made to the {obj} disappeared after I refreshed the page.",
                "It crashes with {err} as soon as I {action}. Happens in {browser} too.",
                "Clicking on a run in the list opens a different run.",
                "The graph on the {page} is empty although the table below has data.",
                "Reproducible every time: {action}, then go back, the changes are lost.",
                "After connecting {integ} the agent can't read any file, it says permission denied but the account is admin.",
                "The SDK throws {err} on client.runs.create with the example from your docs.",
                "The agent answered a customer with a message meant for another conversation.",
                "Two of my teammates can't see the workflows I shared with them.",
                "The 'retry' button on a failed run does nothing.",
                "Something's wrong: the agent keeps looping and calling the same tool over and over.",
                "The totals on the analytics tab don't add up with what the export says.",
                "The invite email link says it's expired right after we send it.",
                "Since your update the {obj} shows {err} for all of us in {ws}.",
            ],
        },
        "es": {
            "subjects": [
                "Error al {action}", "{obj} no funciona", "Me sale {err}", "La integración con {integ} dejó de funcionar",
                "No puedo {action}", "Fallo en {page}", "El webhook se envía dos veces", "El agente no hace caso al prompt",
                "El botón de guardar no hace nada", "Ejecuciones vacías", "Datos incorrectos en {page}", "Problema con {obj}",
                "{page} en blanco", "Me cierra la sesión todo el rato", "Las variables no se sustituyen",
                "Mensajes duplicados en {integ}", "No se lanzan las ejecuciones programadas", "El CSV sale mal",
                "Las tildes salen raras", "La API key nueva no funciona", "No aparece el widget en la web",
                "URGENTE: agente caído en producción", "Algo raro pasa", "Falla desde la actualización", "Otra vez roto",
                "No se guardan los cambios", "No me deja borrar {obj}", "Error {err}",
            ],
            "bodies": [
                "Cuando intento {action} me sale {err}.",
                "Cada vez que intento {action} aparece {err}. Empezó {when}.",
                "{obj} está roto {when}. Le doy al botón y no pasa nada, ni error ni nada.",
                "Pasos: abro {page}, intento {action} y sale {err}. Debería funcionar sin más.",
                "La integración con {integ} ha dejado de publicar mensajes {when}. La ejecución dice 'éxito' pero en {integ} no llega nada.",
                "Los webhooks llegan con el cuerpo vacío, nuestro servidor recibe la petición sin JSON.",
                "El webhook se entrega dos o tres veces por evento y se nos crean duplicados.",
                "El agente ya no respeta las instrucciones del prompt de sistema, contesta cosas que le dijimos que no.",
                "Las ejecuciones terminan en 'completada' pero la salida está vacía.",
                "El contador de {page} marca 0 y hemos tenido cientos de ejecuciones {when}.",
                "Las horas del registro de ejecuciones están desfasadas una hora desde el cambio de hora.",
                "Me echa de la sesión cada pocos minutos y tengo que volver a entrar.",
                "El agente responde dos veces a cada mensaje en {integ}.",
                "El flujo se salta el paso de aprobación y envía el correo directamente.",
                "Al exportar a CSV las columnas salen desplazadas.",
                "Las eñes y las tildes salen como símbolos raros en las respuestas del agente.",
                "No puedo borrar {obj}: el diálogo de confirmación se cierra y sigue ahí.",
                "Activo la opción, guardo, recargo y vuelve a estar desactivada.",
                "La API devuelve 200 pero el agente no se actualiza.",
                "El widget de chat ya no aparece en nuestra web, el script carga pero la burbuja no sale.",
                "Las API keys nuevas no valen, todas las llamadas devuelven 401.",
                "Subí un PDF y el agente dice que no tiene documentos.",
                "Al filtrar por agente salen ejecuciones de otros agentes.",
                "Las variables del prompt no se rellenan, al cliente le llega 'Hola {{nombre}}' tal cual.",
                "Sale {err} al abrir {page} con {browser}. Lo demás va bien.",
                "El disparador programado no se lanzó anoche, no hay nada en el historial.",
                "Los cambios que hice en {obj} desaparecen al recargar.",
                "Se cuelga con {err} en cuanto intento {action}.",
                "Al pinchar en una ejecución se abre otra distinta.",
                "La gráfica de {page} sale vacía aunque la tabla tiene datos.",
                "Pasa siempre: {action}, vuelvo atrás y se pierden los cambios.",
                "El botón de reintentar en una ejecución fallida no hace nada.",
                "El agente entra en bucle llamando a la misma herramienta sin parar.",
                "Los totales de la analítica no cuadran con la exportación.",
                "El enlace de invitación dice que ha caducado nada más enviarlo.",
                "El agente le contestó a un cliente con un mensaje de otra conversación.",
            ],
        },
    },
    "performance": {
        "en": {
            "subjects": [
                "{page} very slow", "Slow agent responses", "Takes forever to load", "Runs taking {dur}",
                "API latency went up", "Timeouts under load", "Workflow builder laggy", "Webhook delivery delayed",
                "Performance degradation {when}", "Everything is sluggish", "Knowledge base search hangs",
                "Runs stuck in queued", "Export takes ages", "Slow dashboard", "{obj} painfully slow",
                "Latency issues", "Response time is terrible", "Sync with {integ} takes hours",
                "Page freezes", "high latency on the API", "super slow today", "Slowness", "p95 latency spike",
                "Agent takes too long to answer", "laggy editor",
            ],
            "bodies": [
                "The {page} takes {dur} to load {when}.",
                "Runs that used to finish in 5 seconds now take {dur}.",
                "The API is responding slowly, p95 is around {lat} {when}.",
                "Agent responses are really slow {when}, our users wait {dur} for a reply in the chat.",
                "The workflow builder lags whenever I drag a node, the whole browser tab freezes for a few seconds.",
                "Webhooks arrive {dur} after the event happens, it used to be instant.",
                "Searching the knowledge base hangs for {dur} before showing results.",
                "We're seeing timeouts under load, throughput dropped to {n} runs per minute.",
                "Exporting last month's runs takes forever, I gave up after {dur}.",
                "Typing in the prompt editor is laggy, each character appears with a delay.",
                "The {page} spins for ages before anything shows up.",
                "Runs sit in 'queued' for {dur} before they start, the backlog keeps growing.",
                "Time to first token went from about 1 second to {lat}.",
                "Streaming replies are choppy, words come in bursts with long pauses.",
                "The sync with {integ} takes hours to complete, it used to take minutes.",
                "Opening a run with many steps takes {dur} and sometimes the tab runs out of memory.",
                "Everything feels sluggish {when}, clicks take a couple of seconds to register.",
                "Our self-hosted runner's memory keeps growing until it gets killed.",
                "Calls to the REST API take {lat} each, our backend jobs now run for hours.",
                "We have to wait {dur} every time we open the {page}, it's killing our productivity.",
                "Loading {obj} is extremely slow for our workspace {ws}, other workspaces seem fine.",
                "Requests to the agent endpoint time out after 30s under normal traffic.",
                "Batch runs of 500 items take {dur}, that's 10x slower than last month.",
                "The analytics tab needs {dur} to render the charts.",
                "Why is it so slow? Every action in the {page} takes {dur}.",
                "Response times are awful {when}, customers are complaining that the bot is too slow.",
                "The app gets slower the more agents we add, with {n}0 agents the list barely loads.",
                "It takes {dur} from clicking 'Run' to seeing the first step.",
                "Our runs hit the 60 second timeout because the tool calls are so slow.",
                "The page becomes unresponsive for {dur} after I open {obj}.",
            ],
        },
        "es": {
            "subjects": [
                "{page} va muy lento", "El agente tarda mucho en responder", "Tarda una eternidad en cargar",
                "Las ejecuciones tardan {dur}", "Latencia alta en la API", "Timeouts con carga",
                "El editor de flujos va a tirones", "Los webhooks llegan con retraso", "Lentitud {when}",
                "Todo va lentísimo", "La búsqueda se queda colgada", "Ejecuciones en cola mucho tiempo",
                "La exportación tarda siglos", "Panel lento", "{obj} va lentísimo", "Problemas de rendimiento",
                "Tiempo de respuesta pésimo", "La sincronización con {integ} tarda horas", "Se congela la página",
                "va lento hoy", "Lentitud general", "El agente tarda demasiado",
            ],
            "bodies": [
                "{page} tarda {dur} en cargar {when}.",
                "Las ejecuciones que antes tardaban 5 segundos ahora tardan {dur}.",
                "La API responde muy lenta, el p95 está en {lat} {when}.",
                "Las respuestas del agente van lentísimas {when}, los usuarios esperan {dur} en el chat.",
                "El editor de flujos se queda pillado cada vez que muevo un nodo, se congela la pestaña.",
                "Los webhooks llegan {dur} después del evento, antes era instantáneo.",
                "La búsqueda en la base de conocimiento se queda pensando {dur}.",
                "Con carga nos dan timeouts, el rendimiento bajó a {n} ejecuciones por minuto.",
                "Exportar las ejecuciones del mes pasado tarda una eternidad, lo dejé tras {dur}.",
                "Escribir en el editor de prompts va con retraso, cada letra tarda en salir.",
                "{page} se queda cargando un montón antes de mostrar nada.",
                "Las ejecuciones se quedan 'en cola' {dur} antes de empezar.",
                "El tiempo hasta el primer token pasó de 1 segundo a {lat}.",
                "La sincronización con {integ} tarda horas, antes eran minutos.",
                "Abrir una ejecución con muchos pasos tarda {dur}.",
                "Todo va muy pesado {when}, cada clic tarda un par de segundos en responder.",
                "Cada llamada a la API tarda {lat}, nuestros procesos nocturnos ahora duran horas.",
                "Tenemos que esperar {dur} cada vez que abrimos {page}, así no se puede trabajar.",
                "Cargar {obj} es lentísimo en nuestro espacio {ws}.",
                "Las peticiones al agente dan timeout a los 30 segundos con tráfico normal.",
                "¿Por qué va tan lento? Cualquier acción en {page} tarda {dur}.",
                "Los clientes se quejan de que el bot tarda muchísimo en contestar.",
                "Desde que pulso 'Ejecutar' hasta que veo el primer paso pasan {dur}.",
                "La página se queda sin responder {dur} al abrir {obj}.",
                "Va fatal de velocidad {when}, no hay quien trabaje.",
            ],
        },
    },
    "question": {
        "en": {
            "subjects": [
                "How do I {howto}?", "Question about {obj}", "Quick question", "Is it possible to {howto}?",
                "Help with {obj}", "Where do I find the {obj}?", "Can an agent use {integ}?", "Documentation for {obj}?",
                "What does this status mean?", "Rate limits", "Which models are supported?", "How to {howto}",
                "Need some guidance", "{integ} setup", "New user question", "Clarification on {obj}",
                "Best practice for {obj}", "Difference between agents and workflows", "question", "Getting started",
                "How does {obj} work?",
            ],
            "bodies": [
                "How do I {howto}? I couldn't find it in the docs.",
                "Is there a way to {howto}?",
                "Hi, quick question: can I {howto} from the {page}?",
                "I'm new to the platform. What's the right way to {howto}?",
                "Could you explain how to {howto}? Step by step if possible.",
                "Does the {integ} integration support attachments or only text?",
                "What's the difference between an agent and a workflow? When should I use each?",
                "What does the status 'waiting_for_tool' mean on a run?",
                "What are the rate limits of the REST API per API key?",
                "Which LLM models can an agent use? Can we bring our own key?",
                "Where can I see how many runs we've done this week?",
                "Is there documentation on how the knowledge base splits documents?",
                "Can one agent call another agent? If so, how?",
                "Do webhooks include a signature header we can check?",
                "Where is the setting to {howto}? I've looked everywhere in {page}.",
                "Is the data sent to {integ} stored on your side too?",
                "Can I use the {obj} with our existing {integ} account, or do I need a new one?",
                "Our team wants to {howto}. What permissions do they need?",
                "How long do you keep run logs?",
                "Where are your servers located? Is the data kept in the EU?",
                "Can I test a workflow without triggering the real webhooks?",
                "What happens to running workflows when I edit them?",
                "How can I {howto} using the API instead of the UI?",
                "Is there a limit on the size of files in the knowledge base?",
                "I'd like to understand how {obj} works before rolling it out. Any guide?",
                "Does the Python SDK support async? Is there an example?",
                "We're evaluating the product: can we {howto}?",
                "Sorry if this is obvious, but how do I {howto}?",
                "Who in our workspace can see the runs of an agent?",
                "What timezone do schedules use?",
            ],
        },
        "es": {
            "subjects": [
                "¿Cómo puedo {howto}?", "Duda sobre {obj}", "Pregunta rápida", "¿Se puede {howto}?", "Ayuda con {obj}",
                "¿Dónde encuentro {obj}?", "¿El agente puede usar {integ}?", "Documentación de {obj}",
                "¿Qué significa este estado?", "Límites de la API", "¿Qué modelos hay?", "Cómo {howto}",
                "Necesito orientación", "Configurar {integ}", "Duda de usuario nuevo", "Consulta", "Duda",
                "Diferencia entre agentes y flujos", "Primeros pasos", "¿Cómo funciona {obj}?",
            ],
            "bodies": [
                "¿Cómo puedo {howto}? No lo encuentro en la documentación.",
                "¿Hay alguna forma de {howto}?",
                "Hola, una duda: ¿puedo {howto} desde {page}?",
                "Soy nuevo en la plataforma. ¿Cuál es la forma correcta de {howto}?",
                "¿Me podéis explicar cómo {howto}? Paso a paso si puede ser.",
                "¿La integración con {integ} admite adjuntos o solo texto?",
                "¿Qué diferencia hay entre un agente y un flujo? ¿Cuándo uso cada uno?",
                "¿Qué significa el estado 'waiting_for_tool' en una ejecución?",
                "¿Cuáles son los límites de peticiones de la API por clave?",
                "¿Qué modelos puede usar un agente? ¿Podemos usar nuestra propia clave?",
                "¿Dónde veo cuántas ejecuciones llevamos esta semana?",
                "¿Hay documentación sobre cómo se trocean los documentos de la base de conocimiento?",
                "¿Un agente puede llamar a otro agente? ¿Cómo?",
                "¿Los webhooks llevan una cabecera de firma para verificarlos?",
                "¿Dónde está la opción para {howto}? He mirado en {page} y no la veo.",
                "¿Los datos que se envían a {integ} se guardan también en vuestros servidores?",
                "Queremos {howto}. ¿Qué permisos necesita el equipo?",
                "¿Cuánto tiempo guardáis los logs de las ejecuciones?",
                "¿Dónde están vuestros servidores? ¿Los datos se quedan en la UE?",
                "¿Puedo probar un flujo sin que se disparen los webhooks reales?",
                "¿Qué pasa con los flujos en marcha si los edito?",
                "¿Cómo puedo {howto} con la API en vez de la interfaz?",
                "¿Hay un límite de tamaño para los archivos de la base de conocimiento?",
                "Perdonad si es obvio, pero ¿cómo se hace para {howto}?",
                "Estamos evaluando el producto: ¿se puede {howto}?",
                "¿En qué zona horaria van las programaciones?",
                "¿Quién de nuestro espacio puede ver las ejecuciones de un agente?",
            ],
        },
    },
    "feature": {
        "en": {
            "subjects": [
                "Feature request: {feat}", "Please add {feat}", "Suggestion: {feat}", "Would love {feat}",
                "Idea for the {page}", "Request: {feat}", "Support for {feat}?", "Any plans for {feat}?",
                "Missing {feat}", "{feat} would be great", "+1 for {feat}", "Wishlist", "Enhancement request",
                "Product feedback", "Nice to have: {feat}", "Improvement idea", "Can you build {feat}?",
            ],
            "bodies": [
                "It would be great if we could have {feat}.",
                "Please add {feat}. Right now we have to do it by hand.",
                "We'd love {feat}; at the moment we work around it with a spreadsheet.",
                "Are there any plans to support {feat}? It's blocking our rollout to the rest of the company.",
                "Feature request: {feat}. Several people on our team asked for it.",
                "Suggestion: {feat}. It would save us a lot of clicks.",
                "Our team really misses {feat}. Competitors have it.",
                "Would you consider adding {feat}?",
                "+1 for {feat}, we'd use it every day.",
                "It would be really useful to have {feat} in the {page}.",
                "We need {feat} before we can move our {integ} flows to your platform.",
                "Could you add an option for {feat}? Not urgent, just a wish.",
                "Idea: let us have {feat}. Happy to give more details on our use case.",
                "It'd be nice if the {page} had {feat}.",
                "Our security team requires {feat}; is it on the roadmap?",
                "I wish there was {feat}. Today it's a lot of copy-paste.",
                "Love the product! One thing that would make it better: {feat}.",
                "Please consider {feat} for a future release.",
                "We would pay more for {feat}, honestly.",
                "When will you offer {feat}? We keep asking internally.",
                "Can you make it possible to {howto} in bulk? Doing it one by one is painful.",
                "It would help a lot if the {integ} integration could also sync comments.",
                "It would be handy to get a notification when a run fails.",
                "Missing functionality: {feat}.",
            ],
        },
        "es": {
            "subjects": [
                "Petición: {feat}", "Por favor añadid {feat}", "Sugerencia: {feat}", "Nos encantaría {feat}",
                "Idea para {page}", "Solicitud de funcionalidad", "¿Soporte para {feat}?", "¿Hay planes para {feat}?",
                "Echamos en falta {feat}", "Estaría genial {feat}", "Propuesta de mejora", "Mejora", "Sugerencia",
                "¿Podéis añadir {feat}?", "Lista de deseos",
            ],
            "bodies": [
                "Estaría genial poder tener {feat}.",
                "Por favor, añadid {feat}. Ahora mismo lo hacemos a mano.",
                "Nos encantaría {feat}; ahora lo apañamos con una hoja de cálculo.",
                "¿Tenéis previsto {feat}? Nos está frenando para extenderlo al resto de la empresa.",
                "Sugerencia: {feat}. Nos ahorraría muchos clics.",
                "Echamos mucho en falta {feat}. La competencia ya lo tiene.",
                "¿Os plantearíais añadir {feat}?",
                "Sería muy útil tener {feat} en {page}.",
                "Necesitamos {feat} antes de migrar nuestros flujos de {integ}.",
                "¿Podríais añadir una opción para {feat}? No es urgente.",
                "Idea: {feat}. Os cuento nuestro caso de uso si queréis.",
                "Me gustaría que hubiera {feat}.",
                "Nuestro equipo de seguridad exige {feat}; ¿está en el roadmap?",
                "¡Nos encanta el producto! Algo que lo mejoraría: {feat}.",
                "Tened en cuenta {feat} para una próxima versión, porfa.",
                "Pagaríamos más por tener {feat}.",
                "¿Cuándo tendréis {feat}? Nos lo preguntan mucho.",
                "Estaría bien poder {howto} de forma masiva, uno a uno es un rollo.",
                "Vendría genial recibir un aviso cuando falla una ejecución.",
                "Funcionalidad que falta: {feat}.",
            ],
        },
    },
    "billing": {
        "en": {
            "subjects": [
                "Charged twice", "Invoice {invno} wrong", "Refund request", "Update billing address",
                "VAT number missing on invoice", "Downgrade to {plan2}", "Too many seats billed", "Card declined",
                "Cancel subscription", "Pay by bank transfer?", "PO number on invoice", "Wrong currency on invoice",
                "Company name on invoice", "Why is our bill higher?", "Charged after trial", "Need a receipt",
                "Payment failed", "Tax exemption", "Billing contact change", "Overage charges", "Invoice question",
                "Upgrade to {plan}", "Pricing for extra seats", "Annual billing", "billing issue", "Invoices",
                "Unexpected charge of {amount}",
            ],
            "bodies": [
                "We were charged {amount} twice in {month}. Please refund the duplicate.",
                "Please update the billing address on our invoices, we moved offices to 221 Baker Street, London.",
                "Our VAT number is missing from invoice {invno}, our accounting can't book it without it.",
                "Where can I download our past invoices? I need the ones from {month}.",
                "We'd like to downgrade from {plan} to {plan2} at the next renewal.",
                "We removed {n} seats last month but we're still being billed for them.",
                "My card keeps getting declined but the bank says everything is fine.",
                "Please cancel our subscription at the end of the current period.",
                "Can we pay by bank transfer instead of a credit card?",
                "Our finance team needs our PO number printed on every invoice.",
                "The invoice is in USD but our contract says EUR.",
                "The company name on invoice {invno} is wrong, it should be our legal entity name.",
                "Why did our bill go up to {amount} this month? Nothing changed on our side.",
                "Our trial ended and we were charged {amount} without any warning email.",
                "I need a receipt for {month} for my expense report.",
                "We got a 'payment failed' notice but the money left our account.",
                "We're a non-profit and tax exempt, how do we stop being charged sales tax?",
                "Please send invoices to finance@ourcompany.com instead of to me.",
                "We were billed {amount} in overage for runs, can you explain how that was calculated?",
                "We want to upgrade to {plan} today. Will we be charged the full price or prorated?",
                "How much does it cost to add {n} more seats?",
                "Can we switch from monthly to annual billing and get the discount?",
                "We were charged for the {plan} plan but we're on {plan2}.",
                "Refund please: we bought the annual plan by mistake.",
                "Invoice {invno} shows {amount} but the quote we signed was lower.",
                "Our credit card expired, how do I put in the new one?",
                "The discount code from your sales rep wasn't applied to the last invoice.",
                "We are being charged for a user who left the company in {month}.",
                "Can you resend invoice {invno}? It never arrived.",
                "The invoice address is still our old one, please fix it for {month} and onwards.",
                "Unexpected charge of {amount} on our card, what is it for?",
                "We need the invoices to show our tax ID and the full postal address.",
            ],
        },
        "es": {
            "subjects": [
                "Cobro duplicado", "Factura {invno} incorrecta", "Solicitud de reembolso", "Cambiar dirección de facturación",
                "Falta el CIF en la factura", "Bajar al plan {plan2}", "Nos cobráis licencias de más", "Tarjeta rechazada",
                "Cancelar suscripción", "¿Pago por transferencia?", "Número de pedido en la factura",
                "Moneda incorrecta en la factura", "Razón social en la factura", "¿Por qué ha subido la factura?",
                "Cobro tras la prueba", "Necesito un recibo", "Pago fallido", "IVA", "Cambiar contacto de facturación",
                "Cargos por exceso", "Duda sobre la factura", "Subir al plan {plan}", "Precio de licencias extra",
                "Facturación anual", "Problema con el cobro", "Facturas", "Cargo inesperado de {amount}",
            ],
            "bodies": [
                "Nos habéis cobrado {amount} dos veces en {month}. Por favor, devolved el duplicado.",
                "Por favor, actualizad la dirección de facturación, nos hemos mudado a la calle Alcalá 123, Madrid.",
                "En la factura {invno} no aparece nuestro CIF y contabilidad no la puede registrar.",
                "¿Dónde descargo las facturas anteriores? Necesito las de {month}.",
                "Queremos pasar del plan {plan} al {plan2} en la próxima renovación.",
                "Quitamos {n} licencias el mes pasado y nos las seguís cobrando.",
                "Me rechaza la tarjeta todo el rato pero el banco dice que está bien.",
                "Por favor, cancelad nuestra suscripción al final del periodo actual.",
                "¿Podemos pagar por transferencia en lugar de con tarjeta?",
                "Administración necesita que el número de pedido aparezca en todas las facturas.",
                "La factura viene en dólares pero el contrato es en euros.",
                "La razón social de la factura {invno} está mal.",
                "¿Por qué la factura de este mes es de {amount}? No hemos cambiado nada.",
                "Se acabó la prueba y nos cobraron {amount} sin avisar.",
                "Necesito el recibo de {month} para mi nota de gastos.",
                "Nos llegó un aviso de pago fallido pero el dinero sí salió de la cuenta.",
                "Somos una ONG exenta de IVA, ¿cómo lo indicamos?",
                "Enviad las facturas a administracion@nuestraempresa.es en vez de a mí.",
                "Nos cobrasteis {amount} por exceso de ejecuciones, ¿cómo se calcula?",
                "Queremos subir al plan {plan} hoy. ¿Se prorratea?",
                "¿Cuánto cuesta añadir {n} licencias más?",
                "¿Podemos cambiar a pago anual con descuento?",
                "Nos cobrasteis el plan {plan} pero estamos en el {plan2}.",
                "Pido el reembolso: compramos el plan anual por error.",
                "La factura {invno} es de {amount} y el presupuesto firmado era menor.",
                "Se me ha caducado la tarjeta, ¿dónde pongo la nueva?",
                "No se aplicó el código de descuento en la última factura.",
                "Nos seguís cobrando un usuario que se fue en {month}.",
                "¿Me reenviáis la factura {invno}? No nos llegó.",
                "La dirección de la factura sigue siendo la antigua, corregidla a partir de {month}.",
                "Cargo inesperado de {amount} en la tarjeta, ¿de qué es?",
                "Necesitamos que las facturas lleven el NIF y la dirección fiscal completa.",
            ],
        },
    },
}

# Category-neutral decoration: greetings, context, urgency and sign-offs.
GREETINGS = {
    "en": ["Hi,", "Hello,", "Hi team,", "Hey,", "Good morning,", "Dear support,", "Hi there,", "Hello support team,", ""],
    "es": ["Hola,", "Buenas,", "Hola equipo,", "Buenos días,", "Estimado soporte,", "Hola, ¿qué tal?", ""],
}
CONTEXT = {
    "en": ["Our workspace is {ws}.", "We're on the {plan} plan.", "I'm using {browser}.", "Account: {ws}.",
           "This affects the whole team.", "Let me know if you need more info.", "Screenshots attached.",
           "I already cleared the cache.", "We have {n} people using the platform.", "We're an agency with several clients.",
           "Thanks in advance.", ""],
    "es": ["Nuestro espacio es {ws}.", "Estamos en el plan {plan}.", "Uso {browser}.", "Cuenta: {ws}.",
           "Le pasa a todo el equipo.", "Si necesitáis más info, decidme.", "Adjunto capturas.",
           "Ya he borrado la caché.", "Somos {n} personas usando la plataforma.", "Gracias de antemano.", ""],
}
SIGNOFFS = {
    "en": ["Thanks", "Thanks!", "Best, Maria", "Cheers, Tom", "Regards, J. Smith", "Thank you", "-- Sent from my iPhone",
           "Kind regards", "thx", ""],
    "es": ["Gracias", "¡Gracias!", "Saludos, Lucía", "Un saludo", "Atentamente, Carlos", "Gracias de antemano",
           "Enviado desde mi iPhone", "Un abrazo", "gracias", ""],
}
ANGRY = {
    "en": ["This is unacceptable.", "Seriously??", "Fix this ASAP!!", "I'm really frustrated.", "We pay for this!",
           "Third time I write about this."],
    "es": ["Esto es inaceptable.", "¿En serio?", "¡Arregladlo ya!", "Estoy muy harto.", "¡Que pagamos por esto!",
           "Es la tercera vez que escribo."],
}
SUBJECT_PREFIX = ["", "", "", "", "Re: ", "Fwd: ", "URGENT: ", "[Support] ", "help - ", "Ayuda: "]


def _fill(text: str, chosen: dict, slots: dict, rng: random.Random) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name not in slots:
            return m.group(0)
        if name not in chosen:
            chosen[name] = _fill(rng.choice(slots[name]), chosen, slots, rng)
        return chosen[name]

    return re.sub(r"(?<!\{)\{(\w+)\}(?!\})", repl, text)


def _typos(text: str, rng: random.Random, rate: float) -> str:
    words = text.split(" ")
    out = []
    for w in words:
        if len(w) > 3 and rng.random() < rate:
            i = rng.randrange(1, len(w) - 1)
            op = rng.randrange(3)
            if op == 0:
                w = w[:i] + w[i + 1] + w[i] + w[i + 2:]
            elif op == 1:
                w = w[:i] + w[i + 1:]
            else:
                w = w[:i] + w[i] + w[i:]
        out.append(w)
    return " ".join(out)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def make_ticket(category: str, lang: str, rng: random.Random) -> dict:
    """One synthetic ticket: a subject and a body from the same slots, dressed with neutral noise."""
    tpl = TEMPLATES[category][lang]
    slots = SLOTS[lang]
    chosen: dict = {}
    subject = _fill(rng.choice(tpl["subjects"]), chosen, slots, rng)
    parts = [_fill(rng.choice(tpl["bodies"]), chosen, slots, rng)]
    if rng.random() < 0.35:
        parts.append(_fill(rng.choice(tpl["bodies"]), chosen, slots, rng))
    if rng.random() < 0.5:
        parts.append(_fill(rng.choice(CONTEXT[lang]), chosen, slots, rng))
    if rng.random() < 0.12 and category in ("bug", "performance", "billing"):
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(ANGRY[lang]))
    greeting = rng.choice(GREETINGS[lang]) if rng.random() < 0.5 else ""
    signoff = rng.choice(SIGNOFFS[lang]) if rng.random() < 0.45 else ""
    body = " ".join(p for p in [greeting, *parts] if p)
    if signoff:
        body += ("\n\n" if rng.random() < 0.5 else " ") + signoff
    roll = rng.random()
    if roll < 0.07:  # subject-only tickets: the description adds nothing
        body = rng.choice(["see subject", "as per subject", "title says it all", "ver asunto", "eso", "."]
                          if lang == "es" else ["see subject", "as per subject", "title says it all", "-", "."])
    elif roll < 0.14:  # vague subject: everything is in the body
        subject = rng.choice(["Help", "Problem", "Issue", "Hi", "Question", "Support request", "(no subject)"]
                             if lang == "en" else ["Ayuda", "Problema", "Incidencia", "Hola", "Consulta", "(sin asunto)"])
    subject = rng.choice(SUBJECT_PREFIX) + subject if rng.random() < 0.2 else subject
    if rng.random() < 0.3:
        rate = rng.choice([0.04, 0.08, 0.12])
        subject, body = _typos(subject, rng, rate), _typos(body, rng, rate)
    if rng.random() < 0.2:
        subject, body = subject.lower(), body.lower()
    if lang == "es" and rng.random() < 0.35:
        subject, body = _strip_accents(subject), _strip_accents(body)
    if rng.random() < 0.05:
        subject = subject.upper()
    if rng.random() < 0.1:
        body = re.sub(r"[.,;:!?¿¡]", "", body)
    reproducible = None
    if category == "bug":
        reproducible = rng.choice([True, True, False, None])
    elif rng.random() < 0.3:
        reproducible = rng.choice([False, None])
    return {"subject": subject[:200].strip() or "(no subject)", "description": body.strip() or ".",
            "reproducible": reproducible, "category": category, "language": lang}


def generate(seed: int = SEED) -> list[dict]:
    """All generated tickets, in a deterministic order."""
    rng = random.Random(seed)
    rows = []
    for category in TEMPLATES:
        for lang, count in PER_CATEGORY_LANG.items():
            seen = set()
            tries = 0
            while len([r for r in rows if r["category"] == category and r["language"] == lang]) < count and tries < count * 20:
                tries += 1
                t = make_ticket(category, lang, rng)
                key = (t["subject"].lower(), t["description"].lower())
                if key in seen:
                    continue
                seen.add(key)
                rows.append(t)
    rng.shuffle(rows)
    return rows


def main() -> None:
    rows = generate()
    out = HERE / "generated.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} tickets to {out}")


if __name__ == "__main__":
    main()
