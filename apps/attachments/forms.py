from django import forms

from . import files


class AttachmentUploadForm(forms.Form):
    # Empty files reach the service, which refuses them with a message naming the file.
    file = forms.FileField(
        label="文件", allow_empty_file=True, widget=forms.ClearableFileInput(attrs={"accept": files.ACCEPT})
    )
    description = forms.CharField(label="说明", max_length=200, required=False)
