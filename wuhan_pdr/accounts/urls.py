from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_two_factor

app_name = "accounts"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/two-factor/", views_two_factor.two_factor, name="two_factor"),
    path("accounts/two-factor/setup/", views_two_factor.two_factor_setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/verify/",
        views_two_factor.two_factor_verify,
        name="two_factor_verify",
    ),
    path(
        "accounts/two-factor/recovery-codes/",
        views_two_factor.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path(
        "accounts/two-factor/disable/",
        views_two_factor.two_factor_disable,
        name="two_factor_disable",
    ),
    path("manage/two-factor/", views_two_factor.manage_two_factor, name="manage_two_factor"),
    path(
        "manage/two-factor/<int:pk>/reset/",
        views_two_factor.manage_two_factor_reset,
        name="manage_two_factor_reset",
    ),
    path("accounts/profile/token/", views.profile_token, name="profile_token"),
    path("organizations/", views.organization_directory, name="directory"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("manage/organizations/", views.manage_organizations, name="manage_organizations"),
    path(
        "manage/organizations/new/",
        views.manage_organization_create,
        name="manage_organization_create",
    ),
    path("manage/organizations/<int:pk>/", views.manage_organization, name="manage_organization"),
    path("manage/users/", views.manage_users, name="manage_users"),
    path("manage/users/new/", views.manage_user_create, name="manage_user_create"),
    path("manage/users/<int:pk>/", views.manage_user, name="manage_user"),
    path(
        "manage/users/<int:pk>/deactivate/",
        views.manage_user_deactivate,
        name="manage_user_deactivate",
    ),
    path(
        "manage/users/<int:pk>/reactivate/",
        views.manage_user_reactivate,
        name="manage_user_reactivate",
    ),
    path(
        "manage/users/<int:pk>/password/", views.manage_user_password, name="manage_user_password"
    ),
]
