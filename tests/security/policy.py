"""The access policy the permission matrix checks: the roles, the rules, and which rule
holds for each endpoint and page.

Most rules come from the code (``surface.rule_for``): a DRF view's ``permission_classes``
(``IsAgent``: staff; ``StaffReadAdministratorWrite``…), a record viewset with the default
permission (the record rule: end users their own rows, staff all), a screen's audience and
staff actions, the admin site. This table says what code cannot tell, and a URL that
neither the code nor this table gives a rule fails the coverage test by name.

Adding a role is one line in ``ROLES``: its user's fields and the tags it holds."""

from dataclasses import dataclass, field

# Tags a role may hold -------------------------------------------------------------------
SIGNED_IN = "signed_in"
STAFF = "staff"  # the agent workspace: agents, managers, change managers, administrators
ADMIN = "admin"  # the administrator role (and superusers)
ADMIN_SITE = "admin_site"  # the admin screens (is_staff with the administrators' rights)
SUPERUSER = "superuser"
# Named rights (the permission the code checks):
CHANGE_AUTHORITY = "change_authority"  # changes.authorise_change
PROBLEM_MANAGEMENT = "problem_management"  # problems.rate_any_workaround
KNOWLEDGE_REVIEW = "knowledge_review"  # knowledge.review_article
MAINTENANCE = "maintenance"  # changes.manage_maintenance
NOBODY = "nobody"  # no person holds it (service accounts' token endpoints)


@dataclass(frozen=True)
class MatrixRole:
    name: str
    #: The user's fields (``role``, ``is_superuser``…) and ``groups`` (names of the
    #: additional roles' groups); None: anonymous.
    user: dict | None
    tags: frozenset = field(default_factory=frozenset)


def _tags(*tags):
    return frozenset({SIGNED_IN, *tags})


ROLES = [
    MatrixRole("anonymous", None),
    MatrixRole("end_user_a", {"role": "end_user"}, _tags()),  # owns the sample rows
    MatrixRole("end_user_b", {"role": "end_user"}, _tags()),
    MatrixRole("agent", {"role": "agent"}, _tags(STAFF)),
    MatrixRole("manager", {"role": "manager"}, _tags(STAFF, PROBLEM_MANAGEMENT, KNOWLEDGE_REVIEW)),
    MatrixRole("change_manager", {"role": "change_manager"}, _tags(STAFF, CHANGE_AUTHORITY)),
    MatrixRole(
        "problem_manager",
        {"role": "agent", "groups": ["Problem managers"]},
        _tags(STAFF, PROBLEM_MANAGEMENT),
    ),
    MatrixRole(
        "knowledge_reviewer",
        {"role": "agent", "groups": ["Knowledge reviewers"]},
        _tags(STAFF, KNOWLEDGE_REVIEW),
    ),
    MatrixRole(
        "administrator",
        {"role": "administrator"},
        _tags(
            STAFF,
            ADMIN,
            ADMIN_SITE,
            CHANGE_AUTHORITY,
            PROBLEM_MANAGEMENT,
            KNOWLEDGE_REVIEW,
            MAINTENANCE,
        ),
    ),
    MatrixRole(
        "superuser",
        {"role": "administrator", "is_superuser": True, "is_staff": True},
        _tags(
            STAFF,
            ADMIN,
            ADMIN_SITE,
            SUPERUSER,
            CHANGE_AUTHORITY,
            PROBLEM_MANAGEMENT,
            KNOWLEDGE_REVIEW,
        ),
    ),
]
ROLE_NAMES = [role.name for role in ROLES]
ROLES_BY_NAME = {role.name: role for role in ROLES}


@dataclass(frozen=True)
class Rule:
    """Who may read (GET) and who may write (any other method).

    ``read``/``write``: the tag one needs (None: anyone, signed in or not). ``owned``: on a
    URL naming one row, only its owner and (if ``staff_see_all``) staff may reach it;
    ``skip_writes``: writes are not tried (signing out would end the client's session)."""

    name: str
    read: str | None
    write: str | None
    owned: bool = False
    staff_see_all: bool = True
    skip_writes: bool = False
    #: A workflow's transition refuses one who may not take it with a 400 naming the
    #: allowed next states (the unchanged database proves the refusal).
    refused_as_invalid: bool = False
    #: False: those the rule lets in may still be refused by the view (an admin page of a
    #: read-only model has no add or delete), so only the refusals are checked.
    admits_all: bool = True

    def allows(self, role: MatrixRole, *, write: bool, detail: bool, owner: bool) -> bool | None:
        """True: allowed; False: refused; None: depends on the body (not checked)."""
        need = self.write if write else self.read
        if need is not None and need not in role.tags:
            return False
        if not self.admits_all:
            return None
        if self.owned and detail:
            if self.staff_see_all and STAFF in role.tags:
                return True
            if not owner:
                return False
            return None if write else True
        return True


PUBLIC = Rule("public", None, None)
SIGNED_IN_ONLY = Rule("signed in", SIGNED_IN, SIGNED_IN)
SIGNED_IN_READ_STAFF_WRITE = Rule("signed in read, staff write", SIGNED_IN, STAFF)
RECORD = Rule("own records or staff", SIGNED_IN, SIGNED_IN, owned=True)
OWN_READ_STAFF_WRITE = Rule("own rows read, staff write", SIGNED_IN, STAFF, owned=True)
OWN_ONLY = Rule("own rows only", SIGNED_IN, SIGNED_IN, owned=True, staff_see_all=False)
STAFF_OWN_ONLY = Rule("staff, own rows only", STAFF, STAFF, owned=True, staff_see_all=False)
STAFF_ONLY = Rule("staff", STAFF, STAFF)
STAFF_READ_ADMIN_WRITE = Rule("staff read, administrators write", STAFF, ADMIN)
ADMINISTRATORS = Rule("administrators", ADMIN, ADMIN)
CHANGE_AUTHORITIES = Rule("staff read, change authorities write", STAFF, CHANGE_AUTHORITY)
KNOWLEDGE_REVIEWERS = Rule(
    "staff read, knowledge reviewers write", STAFF, KNOWLEDGE_REVIEW, refused_as_invalid=True
)
PROBLEM_MANAGERS = Rule(
    "staff read, the workaround's user or problem managers write", STAFF, PROBLEM_MANAGEMENT
)
ADMIN_SITE_ONLY = Rule("admin site", ADMIN_SITE, ADMIN_SITE)
#: The admin's other pages: its models' own rights decide within (read-only models).
ADMIN_SITE_MODEL_RIGHTS = Rule(
    "admin site, the model's rights", ADMIN_SITE, ADMIN_SITE, admits_all=False
)
SERVICE_ACCOUNTS = Rule("service accounts' tokens only", NOBODY, NOBODY)
SIGN_OUT = Rule("anyone (signing out)", None, None, skip_writes=True)

#: By permission class (its ``__name__``), the rule it stands for.
PERMISSION_CLASSES = {
    "IsAgent": STAFF_ONLY,
    "StaffReadAdministratorWrite": STAFF_READ_ADMIN_WRITE,
    "StaffOrOwnAssetsReadOnly": OWN_READ_STAFF_WRITE,
    "IsServiceAccount": SERVICE_ACCOUNTS,
    "AllowAny": PUBLIC,
}

#: What the code cannot tell, by URL name; a name ending in ``-`` covers every URL name
#: that starts with it (a viewset's routes). The longest match wins.
EXPLICIT = {
    # The API's own endpoints.
    "api-root": SIGNED_IN_ONLY,
    "api-token": PUBLIC,
    "api-search": SIGNED_IN_ONLY,
    "api-search-suggestions": SIGNED_IN_ONLY,
    "api-attachment-download": RECORD,
    "lookup": SIGNED_IN_ONLY,
    "schema": SIGNED_IN_ONLY,
    "api-docs": SIGNED_IN_ONLY,
    # Read-only lists anyone signed in picks from (scoped by their visible_to).
    "service-list": SIGNED_IN_READ_STAFF_WRITE,
    "service-detail": SIGNED_IN_READ_STAFF_WRITE,
    "catalogue-category-": SIGNED_IN_READ_STAFF_WRITE,
    "catalogue-item-": SIGNED_IN_READ_STAFF_WRITE,
    "catalogue-item-validate": SIGNED_IN_ONLY,
    "knowledge-category-": SIGNED_IN_READ_STAFF_WRITE,
    "incident-category-": SIGNED_IN_READ_STAFF_WRITE,
    "known-error-": SIGNED_IN_READ_STAFF_WRITE,
    # One's own approvals (staff too see only theirs).
    "approval-": OWN_ONLY,
    # Knowledge: published articles are read by anyone signed in (the sample is one).
    "article-": STAFF_ONLY,
    "article-list": SIGNED_IN_READ_STAFF_WRITE,
    "article-detail": SIGNED_IN_READ_STAFF_WRITE,
    "article-feedback": SIGNED_IN_ONLY,
    "article-attachments": SIGNED_IN_READ_STAFF_WRITE,
    # An asset's holder reads the asset, not its history.
    "asset-history": STAFF_ONLY,
    "asset-timeline": STAFF_ONLY,
    # Security: the audit log, one's own API tokens.
    "audit-event-": ADMINISTRATORS,
    "api-token-own-": OWN_ONLY,
    # Named rights.
    "change-template-review": CHANGE_AUTHORITIES,
    "change-template-retire": CHANGE_AUTHORITIES,
    "change-window-freeze": CHANGE_AUTHORITIES,  # a freeze is a blackout
    "changes:template-action": CHANGE_AUTHORITIES,
    "article-publish": KNOWLEDGE_REVIEWERS,  # the sample's reviewing team: none of ours
    "article-send-back": KNOWLEDGE_REVIEWERS,
    "problem-rate-workaround-use": PROBLEM_MANAGERS,  # the sample use is not ours
    "problems:rate-workaround": PROBLEM_MANAGERS,
    # Webhook receivers check their own signature.
    "devops-github": PUBLIC,
    # Pages of the kernel and the service desk.
    "favicon.ico": PUBLIC,
    "javascript-catalog": PUBLIC,
    "login": PUBLIC,
    "logout": SIGN_OUT,
    "home": SIGNED_IN_ONLY,
    # Signing in: password reset, the second factor's step, single sign-on.
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "sign-in-verify": PUBLIC,
    "oidc_authentication_init": PUBLIC,
    "oidc_authentication_callback": PUBLIC,
    "saml2_login": PUBLIC,
    "saml2_acs": PUBLIC,
    "saml2_metadata": PUBLIC,
    "saml2_ls": PUBLIC,
    "saml2_ls_post": PUBLIC,
    # One's own account: tokens, two-factor, e-mail, privacy.
    "my-tokens": SIGNED_IN_ONLY,
    "my-token-revoke": OWN_ONLY,
    "two-factor": SIGNED_IN_ONLY,
    "two-factor-qr": SIGNED_IN_ONLY,
    "email-confirm": SIGNED_IN_ONLY,
    "privacy:": SIGNED_IN_ONLY,
    "preferences": SIGNED_IN_ONLY,
    "portal-home": SIGNED_IN_ONLY,
    "suggestions": SIGNED_IN_ONLY,
    "practice-map": STAFF_ONLY,
    "work-home": STAFF_ONLY,
    "search": STAFF_ONLY,
    "quick-search": STAFF_ONLY,
    "saved-view-create": STAFF_ONLY,
    "saved-view-delete": STAFF_OWN_ONLY,
    "service-level:": STAFF_ONLY,
    "fulfilment:": STAFF_ONLY,
    "fulfilment:approvals": SIGNED_IN_ONLY,  # end users are sent to the portal's
    "fulfilment:approvals-count": SIGNED_IN_ONLY,  # their own count (none for end users)
    # The portal.
    "catalogue:catalogue": SIGNED_IN_ONLY,
    "catalogue:item": SIGNED_IN_ONLY,
    "catalogue:approvals": SIGNED_IN_ONLY,
    "catalogue:decide": OWN_ONLY,
    # A request's portal page is its requester's (staff work it in the workspace).
    "catalogue:request": OWN_ONLY,
    "catalogue:request-attach": OWN_ONLY,
    "catalogue:request-cancel": OWN_ONLY,
    "catalogue:request-close": OWN_ONLY,
    "catalogue:request-comment": OWN_ONLY,
    "knowledge:portal-": SIGNED_IN_ONLY,
    "problems:portal-": SIGNED_IN_ONLY,
    "incidents:download": RECORD,
    # Workspace pages outside the screens.
    "cmdb:": STAFF_ONLY,
    "assets:create": STAFF_ONLY,
    "assets:compliance": STAFF_ONLY,
    "knowledge:": STAFF_ONLY,
    "knowledge:feedback": SIGNED_IN_ONLY,
    "problems:": STAFF_ONLY,
    "changes:": STAFF_ONLY,
    # The admin site: its home and every model's list for administrators; on the other
    # pages the model's own rights decide (``surface.rule_for``).
    "admin:": ADMIN_SITE_MODEL_RIGHTS,
    "admin:index": ADMIN_SITE_ONLY,
    "admin:login": PUBLIC,
    "admin:logout": SIGN_OUT,
}


#: The body of a write that must be refused, where an empty one would be refused for
#: being empty before the right is checked (so the refusal proves nothing).
WRITE_BODIES = {
    "change-template-review": {"approve": True},
    "changes:template-action": {"approve": "on"},
    "problem-rate-workaround-use": {"effectiveness": 3},
    "change-window-freeze": {"name": "Matrix freeze"},
    "problems:rate-workaround": {"effectiveness": "3"},
}

#: Pages too slow to fetch as every role (the schema is generated on every request): the
#: roles they are fetched as, a refused and a let-in one at least.
SAMPLED_ROLES = {"schema": ("anonymous", "end_user_a", "agent")}


def explicit_rule(name: str) -> Rule | None:
    if name in EXPLICIT:
        return EXPLICIT[name]
    prefixes = [p for p in EXPLICIT if p.endswith(("-", ":")) and name.startswith(p)]
    if prefixes:
        return EXPLICIT[max(prefixes, key=len)]
    return None


#: Refusals the policy asks for that the code does not give yet: (method, URL name, role)
#: -> what leaks. Their cases are expected failures (strict: fixing one fails the case
#: until its line here is removed).
HOLES: dict[tuple[str, str, str], str] = {}


def hole(method: str, name: str, role: str) -> str | None:
    return HOLES.get((method, name, role))
