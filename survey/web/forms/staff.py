"""Staff forms (login and account management)."""
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from . import ChineseForm


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[InputRequired("请输入密码"), Length(max=256)])


class UserForm(ChineseForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名"),
                                              Length(max=64, message="用户名最多 64 个字符")])
    password = PasswordField("初始密码", validators=[
        InputRequired("请输入密码"), Length(min=8, max=256, message="密码至少 8 位")])
    role = SelectField("角色", choices=[SelectChoice("staff", "工作人员"),
                                       SelectChoice("admin", "部门管理员")])
