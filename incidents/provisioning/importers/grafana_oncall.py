"""TODO"""


def auth_header(token):
    raise NotImplementedError
