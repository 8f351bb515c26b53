"""Single sign-on under /sso/: OpenID Connect (mozilla-django-oidc's views) and SAML 2.0
(djangosaml2's), each answering 404 while its provider is not configured. LDAP needs no
URL: it signs in through the ordinary sign-in form."""

from django.urls import path

from . import views

urlpatterns = [
    path("oidc/authenticate/", views.OIDCLoginView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", views.OIDCCallbackView.as_view(), name="oidc_authentication_callback"),
    path("saml/login/", views.SAMLLoginView.as_view(), name="saml2_login"),
    path("saml/acs/", views.SAMLACSView.as_view(), name="saml2_acs"),
    path("saml/metadata/", views.SAMLMetadataView.as_view(), name="saml2_metadata"),
    path("saml/ls/", views.SAMLLogoutServiceView.as_view(), name="saml2_ls"),
    path("saml/ls/post/", views.SAMLLogoutServiceView.as_view(), name="saml2_ls_post"),
]
