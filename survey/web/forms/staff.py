"""Staff forms (login and account management)."""
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

from ...store.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from . import ChineseForm

PASSWORD_RULE = f"密码至少 {MIN_PASSWORD_LENGTH} 位，最多 {MAX_PASSWORD_LENGTH} 位"


def _new_password(label: str) -> PasswordField:
    return PasswordField(label, validators=[
        InputRequired("请输入新密码"),
        Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_RULE)])


def _confirmation() -> PasswordField:
    return PasswordField("再次输入新密码", validators=[
        InputRequired("请再次输入新密码"), EqualTo("new_password", "两次输入的新密码不一致")])


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[InputRequired("请输入密码"), Length(max=256)])


class UserForm(ChineseForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名"),
                                              Length(max=64, message="用户名最多 64 个字符")])
    password = PasswordField("初始密码", validators=[
        InputRequired("请输入密码"),
        Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_RULE)])
    role = SelectField("角色", choices=[SelectChoice("staff", "工作人员"),
                                       SelectChoice("admin", "部门管理员")])


class PasswordChangeForm(ChineseForm):
    """A user's own password: the current one proves it is them, not an unlocked screen."""
    current_password = PasswordField("当前密码", validators=[
        InputRequired("请输入当前密码"), Length(max=MAX_PASSWORD_LENGTH)])
    new_password = _new_password("新密码")
    confirm = _confirmation()


class PasswordResetForm(ChineseForm):
    """An administrator setting another account's password."""
    new_password = _new_password("新密码")
    confirm = _confirmation()


class AccountStateForm(ChineseForm):
    """Disable or enable an account: the button is the whole form (CSRF only)."""
