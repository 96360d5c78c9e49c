# Accounts and roles are managed only through the 用户管理 pages, where every change is audited;
# they are deliberately not registered in the Django admin.
