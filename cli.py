"""The `fangxun` command: thin wrappers that open the database and call the services."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fangxun import __version__
from fangxun.cli_parser import ChineseArgumentParser, integer
from fangxun.core.clock import Clock
from fangxun.core.errors import BadInput, FangxunError, ImportRejected
from fangxun.core.logs import FORMATS as LOG_FORMATS
from fangxun.core.logs import setup_logging
from fangxun.core.os_errors import os_error_text
from fangxun.core.roles import ROLES

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class CommandContext:
    """What every command needs: settings, clock and the database URL. A command that reads only the registry
    section (registry_only) has `registry` and no `settings`."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        if getattr(args, "registry_only", False):
            self.registry = registry_settings(args.config)
        else:
            from fangxun.settings import load_settings

            self.settings = load_settings(args.config)
            self.registry = self.settings.registry
        self.clock = Clock(zone=self.registry.timezone)
        self.url = _database_url(args.database_url)

    @asynccontextmanager
    async def database(self):
        """A migrated engine and its session factory, disposed afterwards."""
        from fangxun.core.db import create_engine, session_factory
        from fangxun.core.migrate import upgrade

        engine = create_engine(self.url)
        try:
            await upgrade(engine)
            yield engine, session_factory(engine)
        finally:
            await engine.dispose()


def _database_url(explicit: str | None) -> str:
    from fangxun.core.db import database_url

    return database_url(explicit)


def registry_settings(config: str | None):
    """The [registry] section. Without a user file it is read from the packaged defaults alone, whose sections the
    tests load as a whole (building the others costs a start-up ~0.1 s); a user file is checked whole, as by every
    command, so a mistake in any of its sections is still refused."""
    from fangxun.core.settings import Layers
    from fangxun.plans.config import RegistrySettings

    layers = Layers(config)
    if not layers.packaged_only:
        from fangxun.settings import load_settings

        return load_settings(config).registry
    return layers.validate_section("registry", RegistrySettings)


def _principal():
    """The command line's principal (accounts imported only by the commands that act: `stats` starts faster)."""
    from fangxun.core.accounts import CLI_PRINCIPAL

    return CLI_PRINCIPAL


def _actor() -> str:
    """The name a command's changes are audited under."""
    return _principal().name


async def cmd_db_upgrade(ctx: CommandContext) -> None:
    async with ctx.database():
        pass
    print(f"数据库结构已是最新：{_safe_url(ctx.url)}")


def cmd_backup(ctx: CommandContext) -> None:
    from fangxun.core.backup import back_up

    print(back_up(ctx.url, Path(ctx.args.file)))


async def cmd_demo_load(ctx: CommandContext) -> None:
    from fangxun.demo.history import load_history, past_year, registry_loaded
    from fangxun.demo.registry import load_demo

    args = ctx.args
    with_history = args.with_history or args.history_year is not None
    year = past_year(args.history_year, ctx.clock.today()) if with_history else None
    lines = []
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        if year is not None and await registry_loaded(session):
            lines.append("数据库中已有登记库，只载入演示历史")
        else:
            lines.append(str(await load_demo(session, ctx.settings, ctx.clock.today(), progress=True)))
        if year is not None:
            lines.append(str(await load_history(session, ctx.settings, year=year, progress=True)))
    print("\n".join(lines))


async def cmd_units_import(ctx: CommandContext) -> None:
    from fangxun.plans.unit_import import import_unit_file

    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        result = await import_unit_file(session, Path(ctx.args.file), actor=_actor(), progress=True)
    print(f"区划导入完成：{result}")


async def cmd_units_export(ctx: CommandContext) -> None:
    from fangxun.plans.plan_export import export_unit_file

    async with ctx.database() as (_, sessions), sessions() as session:
        count = await export_unit_file(session, Path(ctx.args.file))
    print(f"已导出 {count} 个行政区划到 {ctx.args.file}")


async def cmd_plans_import(ctx: CommandContext) -> None:
    from fangxun.plans.plan_import import import_plan_file

    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        result = await import_plan_file(session, Path(ctx.args.file), ctx.settings.registry, actor=_actor(),
                                        progress=True)
    print(f"预案导入完成：{result}")


async def cmd_plans_export(ctx: CommandContext) -> None:
    from fangxun.plans.plan_export import export_plan_file

    async with ctx.database() as (_, sessions), sessions() as session:
        count = await export_plan_file(session, Path(ctx.args.file), ctx.settings.registry, ctx.clock.today(),
                                       root=ctx.args.root)
    print(f"已导出 {count} 条预案到 {ctx.args.file}")


async def cmd_plans_remind(ctx: CommandContext) -> None:
    if not ctx.settings.registry.reminders.enabled:
        print("预案复核提醒已关闭（配置 [registry.reminders] enabled = false），未发送任何提醒")
        return
    from fangxun.warnings.plan_reminders import due_reminders, send_plan_reminders

    async with ctx.database() as (_, sessions):
        if ctx.args.dry_run:
            async with sessions() as session:
                reminders = await due_reminders(session, ctx.settings, ctx.clock.today())
        else:
            reminders = await send_plan_reminders(sessions, ctx.settings, ctx.clock.now(), ctx.clock.today())
    if ctx.args.json:
        print(json.dumps([r.as_json() for r in reminders], ensure_ascii=False, indent=2))
        return
    verb = "将发送" if ctx.args.dry_run else "已放入发件箱"
    for r in reminders:
        print(f"{r.plan_id}\t{r.place}\t{r.plan_title}\t{r.due}\t{r.step}\t{r.contact_name or '-'}\t"
              f"{r.channel or '-'}\t{r.problem or verb}")
    print(f"预案复核提醒：{verb} {sum(1 for r in reminders if r.problem is None)} 条，"
          f"无法发送 {sum(1 for r in reminders if r.problem)} 条")


async def cmd_duty_import(ctx: CommandContext) -> None:
    from fangxun.warnings.duty.roster_import import desk_names, import_roster_file

    departments = ctx.settings.warnings.departments
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        result = await import_roster_file(session, Path(ctx.args.file), ctx.args.desk, departments,
                                          actor=_actor())
    print(f"{desk_names(departments)[ctx.args.desk]}值班表导入完成：{result}")


def _duty_moment(ctx: CommandContext):
    from fangxun.core.times import parse_local_time

    return parse_local_time(ctx.args.at, "--at") if ctx.args.at else ctx.clock.now()


async def cmd_duty_now(ctx: CommandContext) -> None:
    from fangxun.warnings.duty.roster_edits import line_json
    from fangxun.warnings.duty.roster_import import desk_names
    from fangxun.warnings.duty.roster_queries import on_duty_now

    names = desk_names(ctx.settings.warnings.departments)
    at = _duty_moment(ctx)
    async with ctx.database() as (_, sessions), sessions() as session:
        duty = await on_duty_now(session, list(names), at, ctx.settings.warnings.duty)
    items = [line_json(entry, names, desk) for desk, entry in duty.items()]
    if ctx.args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for item in items:
        if item["officer_name"] is None:
            print(f"{item['desk_name']}（{item['desk']}）：无人值班")
        else:
            print(f"{item['desk_name']}（{item['desk']}）：{item['duty_date']} {item['shift']} 值班员 "
                  f"{item['officer_name']} {item['officer_phone']}，带班领导 {item['leader_name']} "
                  f"{item['leader_phone']}")


async def cmd_contacts_away(ctx: CommandContext) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fangxun.plans.absence_queries import away_at, one_absence
    from fangxun.plans.absence_writes import add_absence

    args, zone = ctx.args, ctx.settings.warnings.quiet_hours.timezone

    def local(text: str) -> str:
        return datetime.fromisoformat(text).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")

    if args.list:
        at = _duty_moment(ctx)
        async with ctx.database() as (_, sessions), sessions() as session:
            items = await away_at(session, at, zone)
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
        elif not items:
            print("此时无人请假或出差")
        for item in items if not args.json else ():
            print(f"{item['id']}\t{item['unit_name']}\t{item['contact_name']}（{item['contact_id']}）\t"
                  f"{item['kind_label']}\t{local(item['starts_at'])} 至 {local(item['ends_at'])}\t"
                  f"通知发给：{item['notified_as']}")
        return
    if args.contact_id is None or not args.starts or not args.ends:
        raise BadInput("登记请假或出差需给出 CONTACT_ID、--from 和 --to（或用 --list 查看谁不在岗）")
    fields = {"kind": args.kind, "starts_at": args.starts, "ends_at": args.ends, "reason": args.reason or ""}
    if args.deputy is not None:
        fields["deputy_contact_id"] = args.deputy
    now = ctx.clock.now()
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        absence = await add_absence(session, args.contact_id, fields, _actor(), now)
        item = await one_absence(session, absence.id, now)
    if args.json:
        print(json.dumps(item, ensure_ascii=False, indent=2))
        return
    deputy = f"由 {item['deputy_name']}（{item['deputy_contact_id']}）代理" if item["deputy_name"] else "由本单位副责任人代理"
    print(f"已登记 {item['id']}：{item['unit_name']} {item['contact_name']} {item['kind_label']} "
          f"{local(item['starts_at'])} 至 {local(item['ends_at'])}，期间预警通知{deputy}")


async def cmd_contacts_back(ctx: CommandContext) -> None:
    from fangxun.plans.absence_writes import cancel_absence

    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        absence = await cancel_absence(session, ctx.args.absence_id, _actor(), ctx.clock.now())
    print(f"已取消请假/出差登记 {absence.id}：此后预警通知发回联系人 {absence.contact_id} 本人")


async def cmd_duty_check(ctx: CommandContext) -> None:
    from zoneinfo import ZoneInfo

    from fangxun.warnings.duty.roster_import import desk_names
    from fangxun.warnings.duty.roster_queries import roster_gaps

    if not 1 <= ctx.args.days <= 366:
        raise BadInput("--days 应在 1 到 366 之间")
    names = desk_names(ctx.settings.warnings.departments)
    duty = ctx.settings.warnings.duty
    async with ctx.database() as (_, sessions), sessions() as session:
        found = await roster_gaps(session, list(names), _duty_moment(ctx), ctx.args.days, duty)
    zone = ZoneInfo(duty.timezone)

    def local(moment) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    items = [{"desk": gap.desk, "desk_name": names[gap.desk], "start": local(gap.start), "end": local(gap.end)}
             for gap in found]
    if ctx.args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        print(f"未来 {ctx.args.days} 天各值班席位均有人值班")
    for item in items:
        print(f"{item['desk_name']}（{item['desk']}）：{item['start']} 至 {item['end']} 无人值班")


async def cmd_drill_start(ctx: CommandContext) -> None:
    from fangxun.warnings.drills.start import drill_options, run_drill

    options = drill_options(ctx.settings, ctx.args.scope, ctx.args.levels, ctx.args.channels, ctx.args.deadline)
    async with ctx.database() as (_, sessions):
        started = await run_drill(sessions, ctx.settings, options, ctx.clock.now(), started_by=_actor())
    if ctx.args.json:
        print(json.dumps(started.as_json(), ensure_ascii=False, indent=2))
        return
    drill = started.drill
    print(f"演练 {drill.id} 已开始：{drill.scope_name}（{drill.scope_code}），通知 {started.told} 人/席位、"
          f"{started.notifications} 条消息（无联系方式 {started.no_contact} 人，无责任人的区划 "
          f"{len(started.units_without_persons)} 个），{drill.deadline_minutes} 分钟内叫应；"
          f"消息由 fangxun dispatch 发出，报告：fangxun drill report {drill.id}")


async def cmd_drill_report(ctx: CommandContext) -> None:
    from fangxun.warnings.drills.report import drill_report
    from fangxun.warnings.drills.report_xlsx import report_xlsx

    async with ctx.database() as (_, sessions), sessions() as session:
        report = await drill_report(session, ctx.args.id, ctx.clock.now())
    if ctx.args.xlsx:
        Path(ctx.args.xlsx).write_bytes(report_xlsx(report, ctx.settings.registry.timezone))
    if ctx.args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    drill, totals = report["drill"], report["totals"]
    print(f"演练 {drill['id']}：{drill['scope_name']}（{drill['scope_code']}），时限 {drill['deadline_minutes']} 分钟")
    print("区县\t通知\t按时叫应\t逾期叫应\t未联系上（无联系方式/送达失败/到时未叫应）\t用时中位数\t最长用时（分钟）")
    for item in [*report["districts"], {"district_name": "合计", **totals}]:
        print(f"{item['district_name']}\t{item['told']}\t{item['answered']}\t{item['late']}\t{item['unreachable']}"
              f"（{item['no_contact']}/{item['failed']}/{item['no_answer']}）\t{_minutes(item['median_minutes'])}"
              f"\t{_minutes(item['max_minutes'])}")
    if ctx.args.xlsx:
        print(f"已写出每人明细到 {ctx.args.xlsx}")


def _minutes(value) -> str:
    return "-" if value is None else f"{value:g}"


async def cmd_drill_list(ctx: CommandContext) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fangxun.warnings.drills.report import list_drills

    async with ctx.database() as (_, sessions), sessions() as session:
        drills = await list_drills(session)
    if ctx.args.json:
        print(json.dumps(drills, ensure_ascii=False, indent=2))
        return
    for drill in drills:
        state = "已取消" if drill["cancelled_at"] else "已结束" if drill["finished_at"] else "进行中"
        started = datetime.fromisoformat(drill["started_at"]).astimezone(ZoneInfo(ctx.settings.registry.timezone))
        print(f"{drill['id']}\t{started:%Y-%m-%d %H:%M}\t{drill['scope_name']}\t通知 {drill['told']}\t{state}")


async def cmd_drill_cancel(ctx: CommandContext) -> None:
    from fangxun.warnings.drills.follow_up import cancel_drill
    from fangxun.warnings.drills.report import get_drill

    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        cancelled = await cancel_drill(session, await get_drill(session, ctx.args.id), ctx.clock.now())
    print(f"演练 {ctx.args.id} 已取消，{cancelled} 条未发出的消息不再发送")
async def _import_list(ctx: CommandContext, importer, what: str) -> None:
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        result = await importer(session, Path(ctx.args.file), actor=_actor(), dry_run=ctx.args.dry_run,
                                progress=True)
    if ctx.args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    for change in result.changes:
        print(change)
    print(f"{what}{'检查通过（--dry-run，未写入）' if ctx.args.dry_run else '导入完成'}：{result}")


async def cmd_contacts_import(ctx: CommandContext) -> None:
    from fangxun.plans.contact_import import import_contact_file

    await _import_list(ctx, import_contact_file, "责任人名单")


async def cmd_shelters_import(ctx: CommandContext) -> None:
    from fangxun.plans.shelter_import import import_shelter_file

    await _import_list(ctx, import_shelter_file, "避险安置点")


async def cmd_audit(ctx: CommandContext) -> None:
    from zoneinfo import ZoneInfo

    from fangxun.core.audit_queries import MAX_PAGE_SIZE, AuditFilter, list_audit, parse_target
    from fangxun.core.times import parse_local_time

    args = ctx.args
    if not 1 <= args.limit <= MAX_PAGE_SIZE:
        raise BadInput(f"--limit：应在 1 到 {MAX_PAGE_SIZE} 之间")
    target_type, target_id = parse_target(args.target) if args.target else (None, None)
    since = parse_local_time(args.since, "--since") if args.since else None
    wanted = AuditFilter(target_type=target_type, target_id=target_id, actor=args.actor, since=since,
                         per_page=args.limit)
    async with ctx.database() as (_, sessions), sessions() as session:
        found = await list_audit(session, wanted)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    zone = ZoneInfo(ctx.settings.registry.timezone)
    for item in found["items"]:
        at = datetime.fromisoformat(item["at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        target = f"{item['target_type']}:{item['target_id']}" if item["target_id"] else item["target_type"]
        print(f"{at}\t{item['actor']}\t{item['action']}\t{target}\t"
              f"{json.dumps(item['before'], ensure_ascii=False)} → {json.dumps(item['after'], ensure_ascii=False)}")
    print(f"审计记录：显示 {len(found['items'])} 条，共 {found['total']} 条")


async def cmd_stats(ctx: CommandContext) -> None:
    from fangxun.plans.stats import registry_stats, stats_lines

    async with ctx.database() as (_, sessions), sessions() as session:
        stats = await registry_stats(session, ctx.registry, ctx.clock.today(), root=ctx.args.root)
    if ctx.args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        print("\n".join(stats_lines(stats)))


async def cmd_token_create(ctx: CommandContext) -> None:
    from fangxun.core.accounts import create_token

    department = _department(ctx)
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        token = await create_token(session, ctx.args.role, ctx.args.label or "", actor=_actor(),
                                   department=department)
    scope = f"，只能为{ctx.settings.warnings.departments[department].name}填报" if department else ""
    print(f"已创建 {ctx.args.role} 令牌{scope}（只显示这一次，请妥善保存）：")
    print(token)


def _department(ctx: CommandContext) -> str | None:
    """--department, checked against [warnings.departments]."""
    department = ctx.args.department
    if department is not None and department not in ctx.settings.warnings.departments:
        known = "、".join(ctx.settings.warnings.departments)
        raise BadInput(f"未知部门 {department!r}，可选：{known}")
    return department


def _read_password(username: str) -> str:
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"为 {username} 设置密码：")
    if first != getpass.getpass("再输入一次："):
        raise FangxunError("两次输入的密码不一致")
    return first


async def cmd_user_create(ctx: CommandContext) -> None:
    from fangxun.core.accounts import create_user

    department = _department(ctx)
    password = _read_password(ctx.args.username)
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        await create_user(session, ctx.args.username, password, ctx.args.role, actor=_actor(),
                          department=department)
    print(f"已创建用户 {ctx.args.username}（角色 {ctx.args.role}）")


async def cmd_geo_import(ctx: CommandContext) -> None:
    from fangxun.plans.boundary_import import import_boundaries

    args = ctx.args
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        result = await import_boundaries(session, Path(args.file), level=args.level, code_field=args.code_field,
                                         name_field=args.name_field, crs=args.crs, actor=_actor())
    for repair in result.repairs:
        print(f"已修复：第 {repair.feature + 1} 个要素 {repair.label}：{repair.reason}")
    for code, name in result.without_geometry[:50]:
        print(f"无边界：{code} {name}")
    if len(result.without_geometry) > 50:
        print(f"……另有 {len(result.without_geometry) - 50} 个区划无边界")
    print(f"边界导入完成：{result}")


async def cmd_map_export(ctx: CommandContext) -> None:
    from fangxun.plans.map_data import coverage_map_html

    async with ctx.database() as (_, sessions), sessions() as session:
        html = await coverage_map_html(session, ctx.settings.registry, ctx.clock.today(), inline_assets=True,
                                       basemap=ctx.settings.map, root=ctx.args.root)
    Path(ctx.args.file).write_text(html, encoding="utf-8")
    print(f"已导出预案覆盖图到 {ctx.args.file}（{len(html.encode()) / 1e6:.1f} MB，可脱离服务直接打开）")


async def cmd_report_annual(ctx: CommandContext) -> None:
    from fangxun.report.export import FORMATS, check_format, write_directory
    from fangxun.report.figures import build_annual_report, check_year

    year = check_year(ctx.args.year)
    formats = tuple(dict.fromkeys(check_format(name) for name in (ctx.args.format or ",".join(FORMATS)).split(",")))
    async with ctx.database() as (_, sessions), sessions() as session:
        report = await build_annual_report(session, ctx.settings, year, ctx.clock.now())
    written = write_directory(report, Path(ctx.args.out), formats)
    print(report.summary)
    print(f"已生成 {year} 年统计报告 {len(written)} 个文件到 {ctx.args.out}")


async def cmd_check_config(ctx: CommandContext) -> None:
    from fangxun.core.db import create_engine

    create_engine(ctx.url)  # validates the URL's form without connecting
    print(f"配置有效：{' + '.join(ctx.settings.source)}；数据库 {_safe_url(ctx.url)}")


async def cmd_events_decide(ctx: CommandContext) -> None:
    from fangxun.warnings.events.decision_queries import decision_view
    from fangxun.warnings.events.decisions import parse_time, record_decision

    args = ctx.args
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        decision = await record_decision(
            session, ctx.settings, args.event_id, action=args.action, level=args.level, decided_by=args.by,
            decided_at=parse_time(args.at, "--at"), note=args.note or "", principal=_principal(),
            now=ctx.clock.now())
    view = decision_view(decision, None)
    waited = f"，距触发预警 {view['time_to_decision']}" if view["time_to_decision"] else ""
    print(f"已记录：事件 {args.event_id} {view['action_label']}{view['level_label']}应急响应（{view['decided_by']}）"
          f"{waited}；通知已写入发送队列（预警编号 {decision.notice_warning_id}）")


async def cmd_events_proposal(ctx: CommandContext) -> None:
    from fangxun.warnings.events.response_desk import response_desk

    async with ctx.database() as (_, sessions), sessions() as session:
        desk = await response_desk(session, ctx.settings, ctx.args.event_id, ctx.clock.now())
    proposal = desk["proposal"]
    print(f"事件 {ctx.args.event_id}：{desk['current_text']}")
    if proposal is None:
        print(f"事件 {ctx.args.event_id}：{desk['advice']['text']}")
        return
    print(f"事件 {ctx.args.event_id}：{desk['advice']['text']}；依据：{proposal['rule']}，"
          f"触发预警 {proposal['trigger_warning_id']}")
    for department, actions in proposal["actions"].items():
        name = ctx.settings.warnings.departments[department].name if department in ctx.settings.warnings.departments \
            else department
        print(f"  {name}：{'；'.join(actions)}")


def cmd_serve(ctx: CommandContext) -> None:
    from fangxun.api.serve import serve

    setup_logging(ctx.args.log_format, database_url=ctx.url)
    serve(ctx.url, ctx.settings, ctx.clock, host=ctx.args.host or ctx.settings.server.host,
          port=ctx.args.port if ctx.args.port is not None else ctx.settings.server.port, demo=ctx.args.demo,
          dispatch=not ctx.args.no_dispatch, history=ctx.args.with_history)


def _ingest_line(name: str, result) -> str:
    """One Chinese line about what ingesting one file did."""
    from fangxun.warnings.vocabulary import COLOUR_LABELS, MSG_TYPE_LABELS

    row = result.warning
    if not result.created:
        return f"{name}：已有相同预警（预警 {row.id}），未重复处理"
    line = (f"{name}：已接收 {row.event}{COLOUR_LABELS.get(row.colour, '')}预警（{MSG_TYPE_LABELS.get(row.msg_type, row.msg_type)}，"
            f"预警 {row.id}，线程 {row.thread_id}）：覆盖 {result.units} 个区划，生成 {result.notifications} 条通知")
    if result.unreachable:
        line += f"，{result.unreachable} 人无可用联系方式"
    if result.superseded:
        line += f"，取代预警 {'、'.join(map(str, result.superseded))}"
    if result.cancelled:
        line += f"，解除预警 {'、'.join(map(str, result.cancelled))}"
    if row.jurisdiction == "outside":
        line += "（辖区外预警：已存档，未通知任何人）"
    elif row.jurisdiction == "unlocated" and row.status == "active":
        line += "（区域无法定位：已通知市防汛值班室，请在网页上人工指定影响区划）"
    elif row.all_clear and not result.cancelled:
        line += "（解除消息未引用本系统收到的预警：仅存档）"
    elif row.status != "active" and not row.all_clear:
        line += f"（状态：{row.status}）"
    return line


def _print_json(items: list) -> None:
    print(json.dumps(items[0] if len(items) == 1 else items, ensure_ascii=False, indent=2))


async def cmd_warnings_ingest(ctx: CommandContext) -> None:
    from fangxun.warnings.intake.cap_intake import ingest_cap, read_cap, read_cap_bytes
    from fangxun.warnings.intake.cap_parse import CapRejected
    from fangxun.warnings.intake.preview import preview

    args, settings = ctx.args, ctx.settings
    refused, shown = 0, []
    async with ctx.database() as (_, sessions):
        for file in args.files:
            name = Path(file).name
            try:
                data = read_cap_bytes(file, settings.warnings.max_cap_bytes)
                warning = read_cap(data, settings, lenient=args.lenient)
            except CapRejected as exc:
                refused += 1
                print(f"{name}：已拒绝：{exc.detail}", file=sys.stderr)
                if args.json:
                    shown.append({"file": file, "error": exc.code, "detail": exc.detail})
                continue
            for skipped in warning.skipped:
                print(f"{name}：已跳过：{skipped}", file=sys.stderr)
            for note in warning.notes:
                print(f"{name}：注意：{note}", file=sys.stderr)
            if args.dry_run:
                async with sessions() as session:
                    view = await preview(session, warning, settings, ctx.clock.now())
                shown.append({"file": file, **view} if args.json else view)
                if not args.json:
                    recipients = view["recipients"]
                    print(f"{name}：{warning.identifier} {warning.event} {warning.colour or '无颜色'} {warning.msg_type}"
                          f"（{view['jurisdiction_label']}{'，解除' if warning.all_clear else ''}）："
                          f"覆盖 {view['unit_count']} 个区划，将通知 {len(recipients['departments'])} 个部门、"
                          f"{recipients['persons']} 名责任人（共 {recipients['notifications']} 条，未保存）")
                continue
            result = await ingest_cap(sessions, warning, data, settings, ctx.clock.now(), source="file",
                                      entered_by=_actor())
            if args.json:
                shown.append({"file": file, **result.as_json()})
            else:
                print(_ingest_line(name, result))
    if args.json:
        _print_json(shown)
    if refused:
        raise BadInput(f"{refused} 个文件被拒绝（其余文件已{'检查' if args.dry_run else '处理'}）")


def cmd_dispatch(ctx: CommandContext):
    import signal

    from fangxun.api.status_server import listen_address, serving_status
    from fangxun.warnings.acks.link_notice import link_lines
    from fangxun.warnings.service import run_dispatch

    setup_logging(ctx.args.log_format, database_url=ctx.url)
    status = listen_address(ctx.args.status_listen) if ctx.args.status_listen else None

    def started(base) -> None:
        channels = "、".join(ctx.settings.warnings.channels) or "无"
        print(f"fangxun dispatch 已启动：通知渠道 {channels}；订阅源 {len(ctx.settings.warnings.feeds)} 个"
              "（Ctrl+C 或 SIGTERM 停止）", flush=True)
        for line in link_lines(base):
            print(line, flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        beside = (lambda engine, service: serving_status(engine, ctx.settings, ctx.clock, service, *status)
                  ) if status else None
        await run_dispatch(ctx.url, ctx.settings, ctx.clock, stop, started=started, beside=beside)
        print("fangxun dispatch 已停止", flush=True)

    return run()


async def cmd_events_list(ctx: CommandContext) -> None:
    from fangxun.warnings.events.event_queries import kind_labels, list_events

    args = ctx.args
    async with ctx.database() as (_, sessions), sessions() as session:
        items = await list_events(session, args.year, args.kind, args.status, labels=kind_labels(ctx.settings.events))
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        print("没有符合条件的事件")
    for item in items:
        print(_event_line(item))


def _event_line(item: dict) -> str:
    """One Chinese line about an event (times in Beijing time)."""
    def local(moment: str | None) -> str:
        return moment[:16].replace("T", " ") if moment else "进行中"

    return (f"事件 {item['id']}：{item['name']}（{item['kind_label']}，{item['status_label']}）"
            f"{local(item['started_at'])} 至 {local(item['ended_at'])}，预警 {item['warning_count']} 条")


async def cmd_events_open(ctx: CommandContext) -> None:
    from fangxun.warnings.events.event_queries import event_summary, kind_labels
    from fangxun.warnings.events.event_rules import parse_time
    from fangxun.warnings.events.event_store import open_by_hand

    args = ctx.args
    started_at = parse_time(args.at, "--at") if args.at else None
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        event = await open_by_hand(session, ctx.settings, _actor(), ctx.clock.now(), kind=args.kind,
                                   name=args.name, started_at=started_at, note=args.note)
    print("已开启" + _event_line(event_summary(event, 0, kind_labels(ctx.settings.events))))


async def cmd_events_close(ctx: CommandContext) -> None:
    from fangxun.warnings.events.event_queries import event_summary, kind_labels
    from fangxun.warnings.events.event_rules import parse_time
    from fangxun.warnings.events.event_store import close_by_hand

    args = ctx.args
    ended_at = parse_time(args.at, "--at") if args.at else None
    async with ctx.database() as (_, sessions), sessions() as session, session.begin():
        event = await close_by_hand(session, args.id, _actor(), ctx.clock.now(), ended_at=ended_at,
                                    note=args.note)
    print("已结束" + _event_line(event_summary(event, 0, kind_labels(ctx.settings.events))).split("，预警")[0])


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _log_format_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--log-format", choices=LOG_FORMATS,
                         help="日志格式：text 逐行可读（默认），json 每行一个 JSON 对象（默认 $FANGXUN_LOG_FORMAT）")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = ChineseArgumentParser(prog="fangxun", description="防汛预案登记与预警联动服务")
    parser.add_argument("--version", action="version", version=f"fangxun {__version__}", help="显示版本号并退出")
    parser.add_argument("--database-url", metavar="URL", help="sqlite:///路径 或 postgresql://…（默认 $FANGXUN_DATABASE_URL 或 sqlite:///fangxun.db）")
    parser.add_argument("--config", metavar="FILE", help="合并到默认配置之上的 TOML 文件（默认 $FANGXUN_CONFIG）")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")

    serve = commands.add_parser("serve", help="启动 HTTP 服务")
    serve.add_argument("--demo", action="store_true", help="空库时载入郑州演示登记库，并打印演示账号")
    serve.add_argument("--with-history", action="store_true", help="与 --demo 同用：再载入上一年度的演示历史")
    serve.add_argument("--host", help="监听的地址（默认配置 [server] host，即 127.0.0.1；0.0.0.0 为所有网卡）")
    serve.add_argument("--port", type=integer, help="监听的端口（默认配置 [server] port，即 8080；0 为任一空闲端口）")
    serve.add_argument("--no-dispatch", action="store_true",
                       help="不在本进程发送预警通知和运行定时任务（另行运行 fangxun dispatch 时）")
    _log_format_option(serve)
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="数据库维护").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="升级数据库结构到最新").set_defaults(handler=cmd_db_upgrade)

    backup = commands.add_parser("backup", help="备份数据库（服务运行时也可）：SQLite 在线备份；PostgreSQL 调用 pg_dump")
    backup.add_argument("file", metavar="FILE", help="备份文件（不覆盖已有文件）")
    backup.set_defaults(handler=cmd_backup)

    demo = commands.add_parser("demo", help="演示数据").add_subparsers(dest="action", required=True)
    demo_load = demo.add_parser("load", help="载入郑州演示登记库（需空库）")
    demo_load.add_argument("--with-history", action="store_true",
                           help="再载入过去一年的演示历史（降雨过程、预警、通知与叫应、响应决策、事件日志）")
    demo_load.add_argument("--history-year", type=integer, help="演示历史的年份（默认上一个完整年度）")
    demo_load.set_defaults(handler=cmd_demo_load)

    units = commands.add_parser("units", help="行政区划").add_subparsers(dest="action", required=True)
    units_import = units.add_parser("import", help="从 CSV/XLSX 导入区划")
    units_import.add_argument("file")
    units_import.set_defaults(handler=cmd_units_import)
    units_export = units.add_parser("export", help="导出区划到 CSV/XLSX")
    units_export.add_argument("file")
    units_export.set_defaults(handler=cmd_units_export)

    plans = commands.add_parser("plans", help="预案").add_subparsers(dest="action", required=True)
    plans_import = plans.add_parser("import", help="从 CSV/XLSX 导入预案（按区划代码+类型更新）")
    plans_import.add_argument("file")
    plans_import.set_defaults(handler=cmd_plans_import)
    plans_export = plans.add_parser("export", help="导出预案到 CSV/XLSX")
    plans_export.add_argument("file")
    plans_export.add_argument("--root", help="只导出该区划及其下级")
    plans_export.set_defaults(handler=cmd_plans_export)
    plans_remind = plans.add_parser("remind", help="提醒预案责任人复核（到期前 30、7 天，逾期每周）")
    plans_remind.add_argument("--dry-run", action="store_true", help="只列出将发送的提醒，不发送")
    plans_remind.add_argument("--json", action="store_true", help="以 JSON 输出")
    plans_remind.set_defaults(handler=cmd_plans_remind)

    contacts = commands.add_parser("contacts", help="责任人（名单导入、请假、出差与代理人）").add_subparsers(
        dest="action", required=True)
    contacts_import = contacts.add_parser(
        "import", help="从 CSV/XLSX 导入责任人名单：文件列出的每个单位的责任人、副责任人以文件为准（全部正确才写入）")
    contacts_import.add_argument("file", metavar="FILE")
    contacts_import.add_argument("--dry-run", action="store_true", help="只检查并列出将要的变更，不写入")
    contacts_import.add_argument("--json", action="store_true", help="以 JSON 输出变更")
    contacts_import.set_defaults(handler=cmd_contacts_import)

    shelters = commands.add_parser("shelters", help="避险安置点").add_subparsers(dest="action", required=True)
    shelters_import = shelters.add_parser(
        "import", help="从 CSV/XLSX 导入避险安置点：文件列出的每个单位的安置点以文件为准（全部正确才写入）")
    shelters_import.add_argument("file", metavar="FILE")
    shelters_import.add_argument("--dry-run", action="store_true", help="只检查并列出将要的变更，不写入")
    shelters_import.add_argument("--json", action="store_true", help="以 JSON 输出变更")
    shelters_import.set_defaults(handler=cmd_shelters_import)

    audit = commands.add_parser("audit", help="审计记录：谁在何时改了什么（最新的在前）")
    audit.add_argument("--target", help="对象：类型或 类型:编号，如 contact:12、shelter、user:duty01、notification:5")
    audit.add_argument("--actor", help="操作者，如 user:duty01、cli")
    audit.add_argument("--since", help="不早于该时间，ISO 8601（不带时区按北京时间），如 2026-07-01")
    audit.add_argument("--limit", type=integer, default=50, help="最多显示条数（默认 50，至多 500）")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(handler=cmd_audit)

    stats = commands.add_parser("stats", help="登记库统计与覆盖情况")
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--root", help="只统计该区划及其下级")
    stats.set_defaults(handler=cmd_stats, registry_only=True)

    token = commands.add_parser("token", help="API 令牌").add_subparsers(dest="action", required=True)
    token_create = token.add_parser("create", help="创建 API 令牌（最后一行打印令牌）")
    token_create.add_argument("--role", required=True, choices=ROLES)
    token_create.add_argument("--label", help="用途说明")
    token_create.add_argument("--department", help="部门（如 water）：该令牌只能为本部门填报事件日志")
    token_create.set_defaults(handler=cmd_token_create)

    user = commands.add_parser("user", help="页面登录用户").add_subparsers(dest="action", required=True)
    user_create = user.add_parser("create", help="创建用户（密码从终端输入，或从标准输入读一行）")
    user_create.add_argument("username")
    user_create.add_argument("--role", required=True, choices=ROLES)
    user_create.add_argument("--department", help="部门（如 water）：该用户只能为本部门填报事件日志")
    user_create.set_defaults(handler=cmd_user_create)

    geo = commands.add_parser("geo", help="行政区划边界").add_subparsers(dest="action", required=True)
    geo_import = geo.add_parser("import", help="导入边界（GeoJSON、Shapefile 压缩包、GeoPackage），全部成功才写入")
    geo_import.add_argument("file")
    geo_import.add_argument("--level", help="只匹配该级别：district/township/village")
    geo_import.add_argument("--code-field", help="区划代码字段（默认自动识别 code/adcode/dt_adcode…）")
    geo_import.add_argument("--name-field", help="名称字段（无代码时按名称在上级内匹配）")
    geo_import.add_argument("--crs", help="坐标系：EPSG:4326（默认取文件自带）、gcj02（高德/DataV 偏移坐标）或 EPSG:NNNN")
    geo_import.set_defaults(handler=cmd_geo_import)

    map_ = commands.add_parser("map", help="预案覆盖图").add_subparsers(dest="action", required=True)
    map_export = map_.add_parser("export", help="导出可离线打开的覆盖图 HTML")
    map_export.add_argument("file")
    map_export.add_argument("--root", help="只导出该区划及其下级（如一个地市或区县的单独文件）")
    map_export.set_defaults(handler=cmd_map_export)

    warnings_ = commands.add_parser("warnings", help="预警").add_subparsers(dest="action", required=True)
    warnings_ingest = warnings_.add_parser(
        "ingest", help="接收 CAP 预警文件（每个文件单独一个事务；有文件被拒绝时退出码为 2，其余照常处理）")
    warnings_ingest.add_argument("files", nargs="+", metavar="FILE")
    warnings_ingest.add_argument("--lenient", action="store_true", help="宽松解析：跳过不合模式的部分并说明")
    warnings_ingest.add_argument("--dry-run", action="store_true", help="只解析并匹配区划和接收人，不保存")
    warnings_ingest.add_argument("--json", action="store_true",
                                 help="输出 JSON（一个文件为一个对象，多个文件为列表）")
    warnings_ingest.set_defaults(handler=cmd_warnings_ingest)

    dispatch = commands.add_parser("dispatch", help="单独运行预警通知发送和定时任务（叫应上报、过期关闭、订阅源）")
    _log_format_option(dispatch)
    dispatch.add_argument("--status-listen", metavar="[HOST:]PORT",
                          help="在此地址提供 /api/health、/api/ready 和 /metrics（默认不提供；只写端口时为 127.0.0.1）")
    dispatch.set_defaults(handler=cmd_dispatch)

    report = commands.add_parser("report", help="统计报告").add_subparsers(dest="action", required=True)
    report_annual = report.add_parser("annual", help="年度统计报告（JSON、每表一个 CSV、XLSX、HTML）")
    report_annual.add_argument("--year", type=integer, required=True, help="统计年份（北京时间的自然年）")
    report_annual.add_argument("--out", required=True, help="输出目录（不存在则创建）")
    report_annual.add_argument("--format", help="只生成这些格式，逗号分隔：json,csv,xlsx,html（默认全部）")
    report_annual.set_defaults(handler=cmd_report_annual)

    events = commands.add_parser("events", help="降雨过程、雨雪冰冻事件").add_subparsers(dest="action", required=True)
    events_decide = events.add_parser("decide", help="记录应急响应决策（启动、提升、降低、终止）并通知各部门")
    events_decide.add_argument("event_id", type=integer, metavar="EVENT_ID")
    events_decide.add_argument("--action", required=True, choices=("activate", "upgrade", "downgrade", "terminate"))
    events_decide.add_argument("--level", help="响应级别 I、II、III、IV（终止时可省略）")
    events_decide.add_argument("--by", required=True, help="决策人（会商研判的领导或值班长）")
    events_decide.add_argument("--at", help="决策时间（默认现在；不带时区为北京时间），如 2026-07-20 08:30")
    events_decide.add_argument("--note", help="说明")
    events_decide.set_defaults(handler=cmd_events_decide)
    events_proposal = events.add_parser("proposal", help="按当前生效预警给出的响应级别建议")
    events_proposal.add_argument("event_id", type=integer, metavar="EVENT_ID")
    events_proposal.set_defaults(handler=cmd_events_proposal)
    events_list = events.add_parser("list", help="列出事件（最新的在前）")
    events_list.add_argument("--year", type=integer, help="开始于该年（北京时间）")
    events_list.add_argument("--kind", help="rainfall（降雨过程）或 snow_ice（雨雪冰冻）")
    events_list.add_argument("--status", help="open（进行中）或 closed（已结束）")
    events_list.add_argument("--json", action="store_true")
    events_list.set_defaults(handler=cmd_events_list)
    events_open = events.add_parser("open", help="人工开启事件（同类事件进行中时拒绝）")
    events_open.add_argument("--kind", required=True, help="rainfall（降雨过程）或 snow_ice（雨雪冰冻）")
    events_open.add_argument("--name", help="名称（默认：开始日期+类型，如 2026年7月20日降雨过程）")
    events_open.add_argument("--at", help="开始时间，ISO 8601（默认现在；不带时区按北京时间）")
    events_open.add_argument("--note", help="备注")
    events_open.set_defaults(handler=cmd_events_open)
    events_close = events.add_parser("close", help="人工结束事件")
    events_close.add_argument("id", type=integer, metavar="ID")
    events_close.add_argument("--at", help="结束时间，ISO 8601（默认现在；不带时区按北京时间）")
    events_close.add_argument("--note", help="备注")
    events_close.set_defaults(handler=cmd_events_close)

    duty = commands.add_parser("duty", help="值班表（市防指值班室与各部门值班席位）").add_subparsers(
        dest="action", required=True)
    duty_import = duty.add_parser("import", help="从 CSV/XLSX 导入一个席位的值班表（全部正确才写入，覆盖文件所列日期）")
    duty_import.add_argument("file", metavar="FILE")
    duty_import.add_argument("--desk", required=True, help="席位：city（市防指值班室）或配置中的部门，如 water")
    duty_import.set_defaults(handler=cmd_duty_import)
    duty_now = duty.add_parser("now", help="各席位当前的值班员与带班领导")
    duty_now.add_argument("--at", help="查询时间，ISO 8601（默认现在；不带时区按北京时间）")
    duty_now.add_argument("--json", action="store_true")
    duty_now.set_defaults(handler=cmd_duty_now)
    duty_check = duty.add_parser("check", help="列出未来几天无人值班的席位和时段")
    duty_check.add_argument("--days", type=integer, default=7, help="检查的天数（默认 7）")
    duty_check.add_argument("--at", help="起始时间，ISO 8601（默认现在；不带时区按北京时间）")
    duty_check.add_argument("--json", action="store_true")
    duty_check.set_defaults(handler=cmd_duty_check)

    drill = commands.add_parser("drill", help="叫应演练（消息均标【演练】）").add_subparsers(dest="action", required=True)
    drill_start = drill.add_parser("start", help="开始演练：通知范围内每位责任人和值班席位，标【演练】并要求叫应")
    drill_start.add_argument("--scope", required=True, help="范围：区划代码，如 410100000000（全市）")
    drill_start.add_argument("--levels", help="层级，逗号分隔：village,township,district,desk（默认全部；desk 仅全市演练）")
    drill_start.add_argument("--channels", help="责任人的通知渠道，逗号分隔，如 sms,voice（默认同预警）")
    drill_start.add_argument("--deadline", help="叫应时限，如 30m、1h（默认 30 分钟）")
    drill_start.add_argument("--json", action="store_true", help="以 JSON 输出")
    drill_start.set_defaults(handler=cmd_drill_start)
    drill_report = drill.add_parser("report", help="演练报告：各区县未联系上的人员（无联系方式、送达失败、到时未叫应）与叫应用时")
    drill_report.add_argument("id", type=integer, metavar="ID")
    drill_report.add_argument("--xlsx", metavar="FILE", help="另写出 XLSX（按区县、人员明细）")
    drill_report.add_argument("--json", action="store_true", help="以 JSON 输出")
    drill_report.set_defaults(handler=cmd_drill_report)
    drill_list = drill.add_parser("list", help="列出最近的演练")
    drill_list.add_argument("--json", action="store_true", help="以 JSON 输出")
    drill_list.set_defaults(handler=cmd_drill_list)
    drill_cancel = drill.add_parser("cancel", help="取消演练：未发出的消息不再发送，不再提醒和上报")
    drill_cancel.add_argument("id", type=integer, metavar="ID")
    drill_cancel.set_defaults(handler=cmd_drill_cancel)

    away = contacts.add_parser("away", help="登记责任人请假或出差（期间预警通知改发代理人）；--list 查看谁不在岗")
    away.add_argument("contact_id", type=integer, nargs="?", metavar="CONTACT_ID", help="请假、出差者的联系人编号")
    away.add_argument("--from", dest="starts", metavar="TIME", help="开始时间，ISO 8601（不带时区按北京时间；只写日期为当日零时）")
    away.add_argument("--to", dest="ends", metavar="TIME", help="结束时间，ISO 8601（只写日期时含该日全天）")
    away.add_argument("--kind", default="leave", help="leave（请假，默认）或 trip（出差）")
    away.add_argument("--reason", help="事由")
    away.add_argument("--deputy", type=integer, metavar="ID", help="代理人（AB角）的联系人编号；默认本单位副责任人")
    away.add_argument("--list", action="store_true", help="列出某一时刻（--at，默认现在）不在岗的人及代理人")
    away.add_argument("--at", help="--list 的时刻，ISO 8601（默认现在；不带时区按北京时间）")
    away.add_argument("--json", action="store_true")
    away.set_defaults(handler=cmd_contacts_away)
    back = contacts.add_parser("back", help="取消一条请假、出差登记（提前返岗）")
    back.add_argument("absence_id", type=integer, metavar="ABSENCE_ID")
    back.set_defaults(handler=cmd_contacts_back)

    commands.add_parser("check-config", help="检查配置文件").set_defaults(handler=cmd_check_config)
    return parser


def _report_rejection(exc: ImportRejected) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)


def _database_lost(exc: Exception, explicit_url: str | None) -> FangxunError | None:
    """A database lost after the first connection (which upgrade checks) as one line; None for other errors."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from fangxun.core.db_errors import unreachable

    if not isinstance(exc, DBAPIError):
        return None
    return unreachable(exc, make_url(_database_url(explicit_url)))


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 on bad input, 1 on other failures. The arguments are parsed before the
    database layer is imported (`--help` and a mistyped command answer at once)."""
    args = build_parser().parse_args(argv)
    try:
        ctx = CommandContext(args)
        outcome = args.handler(ctx)
        if asyncio.iscoroutine(outcome):
            asyncio.run(outcome)
    except ImportRejected as exc:
        _report_rejection(exc)
        print(f"fangxun: {exc.detail}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FangxunError as exc:
        print(f"fangxun: {exc.detail}", file=sys.stderr)
        return EXIT_BAD_INPUT if exc.status < 500 or exc.code == "config_error" else EXIT_FAILURE
    except OSError as exc:   # a file that cannot be read or written: one line, no traceback
        print(f"fangxun: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        translated = _database_lost(exc, args.database_url)
        if translated is None:
            raise
        print(f"fangxun: {translated.detail}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
