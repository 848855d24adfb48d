"""The argument parser of the `fangxun` command, in Chinese: argparse looks up each of its phrases ("usage: ",
"the following arguments are required: %s", …) through its module's gettext functions when it needs them, so the
parser puts a catalogue of Chinese phrases in their place while it builds, parses, formats or reports; phrases the
catalogue lacks stay as argparse wrote them."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

# argparse's message ids (Python 3.11 to 3.13) and their Chinese.
MESSAGES = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "subcommands": "子命令",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "必须给出以下参数之一：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的取值 %(value)r（可选：%(choices)s）",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的子命令 %(parser_name)r（可选：%(choices)s）",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "缺少参数值",
    "expected at most one argument": "最多只能有一个参数值",
    "expected at least one argument": "至少需要一个参数值",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的 %(type)s 值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的参数值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
}
PLURALS = {"expected %s argument": "需要 %s 个参数值"}


def _gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return PLURALS.get(singular) or (singular if count == 1 else plural)


@contextmanager
def chinese_messages() -> Iterator[None]:
    """argparse speaks Chinese inside the block (it reads its phrases through its module's `_` and `ngettext`)."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _gettext, _ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help and errors are in Chinese (its subcommands' parsers too)."""

    def __init__(self, *args, **kwargs):
        with chinese_messages():
            super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        with chinese_messages():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):
        with chinese_messages():
            return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        with chinese_messages():
            return super().format_usage()

    def format_help(self) -> str:
        with chinese_messages():
            return super().format_help()

    def error(self, message: str):
        """Usage and "fangxun：错误：…" on stderr, exit 2 (argparse's own, in Chinese)."""
        with chinese_messages():
            super().error(message)


def integer(text: str) -> int:
    """An integer argument (`type=integer`), refused in Chinese."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数，而不是 {text!r}") from None
