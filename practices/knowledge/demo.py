"""Demo knowledge base, loaded by ``manage.py load_demo``: categories and twelve articles on
the demo incidents' topics (e-mail, VPN, printing, passwords, Wi-Fi…), written, reviewed and
published through ``services`` so that their journals and versions are real. Most are
published for employees, two are for staff only, one is a draft, one waits for review and
one has a second version. Skipped when any demo article exists already."""

from datetime import timedelta

from django.utils import timezone

from . import services
from .models import Article, KnowledgeCategory

CATEGORIES = {
    "E-mail": ("Outlook, shared mailboxes and calendars.", 10),
    "VPN and remote work": ("Working from home and on the road.", 20),
    "Printing": ("Office printers and scanning.", 30),
    "Passwords and accounts": ("Signing in, resetting and unlocking.", 40),
    "Wi-Fi": ("Wireless networks in the offices.", 50),
    "Office software": ("Excel, Word, Teams and friends.", 60),
}

# (title, category, audience, summary, keywords, body, fate)
# fate: "published", "draft", "in_review", "revised" (published twice)
ARTICLES = [
    ("Outlook shows 'Disconnected'", "E-mail", "portal",
     "Get Outlook back online in two minutes.", "outlook offline disconnected mail",
     "If Outlook says **Disconnected** in the status bar:\n\n"
     "1. Check that other websites load (your network works).\n"
     "2. In Outlook, open **Send/Receive** and untick **Work Offline**.\n"
     "3. Still disconnected? Quit Outlook and start it again.\n\n"
     "If webmail works but Outlook does not, report an issue and mention the time it started.",
     "published"),
    ("Outlook search returns no results", "E-mail", "portal",
     "Rebuild the search index when search finds nothing.", "outlook search index",
     "1. Open **File → Options → Search → Indexing Options**.\n"
     "2. Choose **Advanced → Rebuild**.\n\n"
     "Indexing takes up to an hour; leave Outlook open meanwhile.",
     "revised"),
    ("Open a shared mailbox", "E-mail", "portal",
     "Add a team mailbox such as Sales to Outlook.", "shared mailbox sales team",
     "Once you have access, the shared mailbox appears by itself within an hour after a "
     "restart of Outlook. If it does not, use **File → Account Settings → Change → More "
     "Settings → Advanced → Add**.",
     "published"),
    ("Connect to the VPN", "VPN and remote work", "portal",
     "Install the client and sign in from home.", "vpn remote access home",
     "1. Install **GlobalConnect** from the Software Center.\n"
     "2. Sign in with your usual account and approve the prompt on your phone.\n\n"
     "The VPN disconnects after 12 hours; connect again.",
     "published"),
    ("VPN says 'certificate expired'", "VPN and remote work", "portal",
     "Renew the gateway certificate on your laptop.", "vpn certificate expired gateway",
     "Your laptop has an old copy of the gateway certificate.\n\n"
     "1. Connect to the office network (or the guest Wi-Fi with the VPN off).\n"
     "2. Open the Software Center and run **VPN certificate update**.\n"
     "3. Restart the VPN client.",
     "published"),
    ("VPN gateway failover runbook", "VPN and remote work", "internal",
     "Switch remote users to the standby gateway.", "vpn gateway failover vpn-gw-01",
     "For the network team only.\n\n"
     "1. Check `vpn-gw-01` health in monitoring.\n"
     "2. Move the DNS record `vpn.example.com` to the standby gateway (TTL 60 s).\n"
     "3. Post a notice on the portal and link the major incident.",
     "published"),
    ("Printer shows as offline", "Printing", "portal",
     "Make a printer available again on your laptop.", "printer offline queue",
     "1. Open **Settings → Printers & scanners**.\n"
     "2. Select the printer and choose **Open print queue**.\n"
     "3. In the **Printer** menu untick **Use Printer Offline**.\n\n"
     "Still offline? Remove the printer and add it again from the list.",
     "published"),
    ("Printer prints blank pages", "Printing", "portal",
     "What to try before calling us.", "printer blank pages toner",
     "Blank pages usually mean an empty or badly seated toner cartridge. Open the front cover, "
     "take the cartridge out, shake it gently and put it back.",
     "in_review"),
    ("Reset your password", "Passwords and accounts", "portal",
     "Self-service password reset, day and night.", "password reset forgot locked",
     "1. Go to the sign-in page and choose **Forgot password?**\n"
     "2. Confirm with the code sent to your phone.\n"
     "3. Choose a new password of at least 14 characters.\n\n"
     "After a reset, sign in again on your phone's mail app too.",
     "published"),
    ("Unlock an account for a caller", "Passwords and accounts", "internal",
     "Identity checks before unlocking.", "unlock account identity verification",
     "Verify the caller with **two** of: employee number, manager's name, a code sent to their "
     "registered phone. Never unlock on a name alone. Log the check in a work note.",
     "published"),
    ("Wi-Fi is slow or drops", "Wi-Fi", "portal",
     "Get a better connection in the office.", "wifi wireless slow drops meeting room",
     "1. Forget the network and join **Corp-WiFi** again.\n"
     "2. Prefer the 5 GHz band: sit where you see the access point.\n"
     "3. Report the meeting room name if it happens in one room only.",
     "published"),
    ("Save a document as PDF", "Office software", "portal",
     "Where the option hides in Word and Excel.", "pdf save export word excel",
     "Use **File → Save a Copy** and choose **PDF** as the type.",
     "draft"),
]  # fmt: skip

REVISION = {
    "Outlook search returns no results": (
        "1. Close Outlook.\n"
        "2. Open **Control Panel → Indexing Options → Advanced → Rebuild**.\n"
        "3. Start Outlook and leave it open.\n\n"
        "Indexing takes up to an hour; results appear as it goes."
    ),
}


def load(context) -> None:
    titles = [spec[0] for spec in ARTICLES]
    if Article.objects.filter(title__in=titles).exists():
        context.log("Knowledge articles already exist.")
        return
    categories = {}
    for name, (description, order) in CATEGORIES.items():
        categories[name], _ = KnowledgeCategory.objects.get_or_create(
            name=name, defaults={"description": description, "order": order}
        )
    author, reviewer = context.user("sam"), context.user("manager")
    team = context.team("Service Desk")
    today = timezone.localdate()
    for i, (title, category, audience, summary, keywords, body, fate) in enumerate(ARTICLES):
        article = services.create_article(
            author,
            {
                "title": title,
                "summary": summary,
                "keywords": keywords,
                "body": body,
                "category": categories[category],
                "audience": audience,
                "assignment_group": team,
            },
        )
        if fate == "draft":
            continue
        article = services.submit(article, author)
        if fate == "in_review":
            continue
        article = services.publish(article, reviewer)
        if fate == "revised":
            article = services.update_article(
                article, author, {"state": "draft", "body": REVISION[title]}
            )
            article = services.submit(article, author, note="Steps for the new Outlook.")
            article = services.publish(article, reviewer)
        if i == 0:  # one article due for review soon, to show the reminder
            services.update_article(article, reviewer, {"review_date": today + timedelta(days=5)})
        Article.objects.filter(pk=article.pk).update(views=(len(ARTICLES) - i) * 7)
    context.log(f"Created {len(ARTICLES)} knowledge articles.")
