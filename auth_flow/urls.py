from django.urls import path

from auth_flow import views, webhooks

app_name = "auth_flow"

urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("auth/phone/", views.phone_submit, name="phone"),
    path("auth/code/", views.code, name="code"),
    path("auth/logout/", views.sign_out, name="logout"),
    # Twilio posts delivery outcomes here (signature-checked).
    path("webhooks/twilio/status/", webhooks.twilio_status, name="twilio-status"),
    # Telegram Gateway posts delivery reports here (signature-checked).
    path("webhooks/telegram/status/", webhooks.telegram_status, name="telegram-status"),
]
