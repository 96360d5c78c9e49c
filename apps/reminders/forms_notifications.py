"""Forms of the notification centre: the channel choice on the profile page."""

from django import forms


class ChannelForm(forms.Form):
    """提醒渠道. 站内通知 is shown checked and disabled (it cannot be turned off); 邮件 is the choice."""

    in_app = forms.BooleanField(
        label="站内通知", required=False, disabled=True, initial=True, help_text="站内通知始终开启，不能关闭。"
    )
    email = forms.BooleanField(label="邮件", required=False)
