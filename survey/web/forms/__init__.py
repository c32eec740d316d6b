"""All WTForms forms live in this package, one module per audience or feature."""
from flask_wtf import FlaskForm
from wtforms.meta import DefaultMeta


class ChineseForm(FlaskForm):
    """WTForms' own messages (an invalid choice, a value that is not a number) in Chinese, from
    the translations WTForms ships; Flask-WTF would need Babel for that."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)
