"""`fangxun serve`: migrate, optionally load the demo registry, then run the web application on sockets bound
first, so that its links point at the address it really listens on."""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web
from sqlalchemy import func, select, update

from fangxun.core.accounts import User, create_user, hash_password
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.core.public_base import http_origin, public_base
from fangxun.core.runtime import tune_for_service
from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.acks.link_notice import link_lines, separate_dispatch_lines

DEMO_USER = "demo"


async def prepare_demo(url: str, settings: Settings, clock: Clock, history: bool = False) -> list[str]:
    """Load the demo registry (and with `history` the last full year's demo history) into an empty
    database; (re)issue the demo sign-in; return lines to print."""
    from fangxun.demo.history import load_history, past_year
    from fangxun.demo.registry import load_demo

    engine = create_engine(url)
    sessions = session_factory(engine)
    password = secrets.token_urlsafe(9)
    lines = []
    try:
        await upgrade(engine)
        async with sessions() as session, session.begin():
            empty = (await session.execute(select(func.count()).select_from(AdminUnit))).scalar_one() == 0
            if empty:
                summary = await load_demo(session, settings, clock.today(), progress=True)
                lines.append(f"已载入演示登记库：{summary}")
                if history:
                    year = past_year(None, clock.today())
                    lines.append(f"已载入{await load_history(session, settings, year=year, progress=True)}")
            demo_user = (await session.execute(select(User).where(User.username == DEMO_USER))).scalar_one_or_none()
            if demo_user is None and empty:
                await create_user(session, DEMO_USER, password, "editor", actor="demo")
            elif demo_user is not None:
                await session.execute(update(User).where(User.id == demo_user.id)
                                      .values(password_hash=hash_password(password)))
                lines.append("数据库已有数据，未重新载入演示库；已重置演示账号密码。")
            else:
                lines.append("数据库已有数据且没有演示账号，未载入演示库；请用 fangxun user create 创建账号。")
                return lines
        lines.append(f"演示账号：用户名 {DEMO_USER}  密码 {password}")
    finally:
        await engine.dispose()
    return lines


def serve(url: str, settings: Settings, clock: Clock, host: str, port: int, demo: bool = False,
          dispatch: bool = True, history: bool = False) -> None:
    """Run the service on `host`:`port` (0: a free port) until interrupted; `dispatch` runs the warning
    dispatcher and scheduler in it too."""
    from fangxun.api.access_log import access_log_options
    from fangxun.api.app import create_app
    from fangxun.api.listen import bind, bound_addresses, bound_port

    sockets = bind(host, port)   # first: a busy port is said at once, before the demo takes its 20 s
    try:
        lines = asyncio.run(prepare_demo(url, settings, clock, history)) if demo else []
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    port = bound_port(sockets)
    base = public_base(settings.server, host, port, bound=bound_addresses(sockets))
    if dispatch:
        notes = link_lines(base)
    else:
        notes = ["未在本进程发送预警通知：请另行运行 fangxun dispatch",
                 *separate_dispatch_lines(base, public_base(settings.server))]

    async def application() -> web.Application:
        engine = create_engine(url)
        await upgrade(engine)
        app = create_app(engine, settings, clock, dispatch=dispatch, expand=True, base=base, warm_map=True)

        async def dispose(_app: web.Application) -> None:
            await engine.dispose()

        app.on_cleanup.append(dispose)
        tune_for_service()
        return app

    def announce(_message: str) -> None:
        for line in lines:
            print(line, flush=True)
        print(f"fangxun 已启动：{http_origin(host or '0.0.0.0', port)}/  （Ctrl+C 停止）", flush=True)
        for line in notes:
            print(line, flush=True)

    web.run_app(application(), sock=sockets, print=announce, **access_log_options())
