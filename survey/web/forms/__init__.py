"""All WTForms forms live in this package, one module per audience or feature."""
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError


class ChineseForm(FlaskForm):
    """WTForms' own messages (an invalid choice, a value that is not a number) in Chinese, from
    the translations WTForms ships; Flask-WTF would need Babel for that."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes. `invalid_message` replaces WTForms' message for a
    choice that is not offered (it has no Chinese for that one)."""
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args, invalid_message: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            if self.invalid_message is None:
                raise
            raise ValueError(self.invalid_message) from None

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            if self.invalid_message is None:
                raise
            raise ValidationError(self.invalid_message) from None
