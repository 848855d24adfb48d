"""Every /api operation as the OpenAPI document describes it: parameters, request body and replies, by method and
path; the error replies each kind of operation can give are added by `operation`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fangxun.api.openapi_schemas import CODE, DATE, ID, LOCAL_TIME, ref
from fangxun.api.uploads import BODY_TYPES
from fangxun.core.audit_queries import MAX_PAGE_SIZE as MAX_AUDIT
from fangxun.plans.plan_fields import KIND_LABELS, STATUS_LABELS
from fangxun.plans.plan_queries import MAX_PAGE_SIZE as MAX_PLANS
from fangxun.plans.unit_rules import LEVELS
from fangxun.report.export import FORMATS, MEDIA_TYPES
from fangxun.report.period import MAX_YEAR, MIN_YEAR
from fangxun.warnings.board_rules import FILTERS, LEVEL_FILTERS, MAX_PER_PAGE, MAX_QUERY_CHARS, PER_PAGE
from fangxun.warnings.delivery.channels.voice_protocol import SIGNATURE_HEADER
from fangxun.warnings.duty.roster_rules import SHIFTS
from fangxun.warnings.queries import MAX_PAGE_SIZE as MAX_WARNINGS, STATES
from fangxun.warnings.vocabulary import COLOURS, WARNING_STATUSES

JSON = "application/json"
CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")
WRITES = frozenset({"post", "put", "patch", "delete"})
# The error replies and when each comes.
ERRORS = {
    400: "请求有误：参数或请求体不合规则（field 指出字段）",
    401: "未认证：缺少或无效的 API 令牌 / 会话",
    403: "无权限：当前角色不能执行该操作",
    404: "对象不存在",
    405: "不允许的方法（事件日志只能追加）",
    409: "冲突：对象状态不允许该操作或已存在",
    413: "请求体过大",
    415: "不支持的内容类型",
    429: "尝试次数过多（Retry-After 秒后再试）",
    503: "暂时不可用（如数据库中断、回调密钥未配置），可稍后重试",
}


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    """A query parameter."""
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def path(name: str, schema: dict, description: str) -> dict:
    """A path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _page(default: int, high: int) -> list[dict]:
    return [query("page", {"type": "integer", "minimum": 1, "maximum": 10**6, "default": 1}, "页码"),
            query("per_page", {"type": "integer", "minimum": 1, "maximum": high, "default": default}, "每页条数")]


EVENT_ID = path("id", {**ID, "examples": [1]}, "事件编号")
WARNING_ID = path("id", {**ID, "examples": [1]}, "预警编号")
PLAN_ID = path("id", {**ID, "examples": [1]}, "预案编号")
CONTACT_ID = path("id", {**ID, "examples": [1]}, "联系人编号")
DRILL_ID = path("id", {**ID, "examples": [1]}, "演练编号")
ROOT = query("root", CODE, "只看该区划及其下级（默认全市）")
UNIT_CODE = path("code", {**CODE, "examples": ["410105000000"]}, "区划代码")
SHELTER_ID = path("id", {**ID, "examples": [1]}, "避险安置点编号")
DRY_RUN = query("dry_run", {"enum": ["0", "1", "true", "false"]}, "1：只检查并列出将要的变更，不写入")
# A list file: multipart field `file` (curl -F file=@名单.xlsx), or the file itself as the body.
UPLOAD = {"multipart/form-data": {"type": "object", "required": ["file"],
                                  "properties": {"file": {"type": "string", "format": "binary",
                                                          "description": ".csv 或 .xlsx 文件"}}},
          **{kind: {"type": "string", "format": "binary"} for kind in BODY_TYPES}}
GROUP = {"type": "string", "pattern": r"^(desks|other|(unit|self):\d{12})$",
         "description": "desks、other、unit:<区划代码> 或 self:<区划代码>"}
BOARD_FILTERS = [
    query("message", {"type": "string", "pattern": r"^(all|\d+)$"}, "all，或过程中的一条消息编号（省略：当前消息）"),
    query("filter", {"enum": list(FILTERS)}, "只看：" + "、".join(FILTERS.values())),
    query("level", {"enum": list(LEVEL_FILTERS)}, "责任人所在级别"),
    query("department", {"type": "string", "maxLength": 64}, "部门键"),
    query("q", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "按姓名、区划或电话号码查找")]
DUTY_LINE = [path("desk", {"type": "string", "maxLength": 64, "examples": ["water"]}, "席位：city 或部门键"),
             path("duty_date", {**DATE, "examples": ["2026-07-01"]}, "值班日（自交班时间起算）"),
             path("shift", {"enum": list(SHIFTS)}, "班次")]
SIGNATURE = {"name": SIGNATURE_HEADER, "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
             "description": "sha256=<请求体原文的 HMAC-SHA256 十六进制值，以渠道回调密钥为键>"}


@dataclass(frozen=True)
class Op:
    """One operation: what it does, its inputs and its successful replies (status -> (text, content))."""

    summary: str
    tag: str
    replies: dict[int, tuple[str, dict | None]]
    params: list[dict] = field(default_factory=list)
    body: dict[str, dict] | None = None       # media type -> schema
    body_required: bool = True
    errors: tuple[int, ...] = ()              # besides those of its kind (400, 401, 403, 413)
    public: bool = False                      # no token: open, or the signature / the token in the path is the key


def json_reply(text: str, schema: str) -> tuple[str, dict]:
    """A JSON reply of component `schema`."""
    return text, {JSON: {"schema": ref(schema)}}


def json_body(schema: str) -> dict[str, dict]:
    """A JSON request body of component `schema`."""
    return {JSON: ref(schema)}


OPERATIONS: dict[tuple[str, str], Op] = {
    # Status
    ("get", "/api/health"): Op("进程是否存活（不查询数据库）", "状态",
                               {200: json_reply("存活", "Health"),
                                503: json_reply("error 为 not_alive：本进程的预警发送循环已停止，需重启（另有 Health 的各字段）",
                                               "Error")}, public=True),
    ("get", "/api/ready"): Op("服务是否就绪：数据库、结构版本、发送进程心跳、定时任务、订阅源", "状态",
                              {200: json_reply("就绪", "Readiness"),
                               503: json_reply("error 为 not_ready：未就绪，另有 Readiness 的各字段（checks：各项检查及原因）",
                                               "Error")}, public=True),
    ("get", "/api/coverage"): Op("预案覆盖与合规情况", "状态", {200: json_reply("覆盖情况", "Coverage")},
                                 params=[ROOT], errors=(404,)),
    ("get", "/api/stats"): Op("登记库统计", "状态", {200: json_reply("统计", "Stats")}, params=[ROOT], errors=(404,)),
    ("get", "/api/openapi.json"): Op("本 OpenAPI 文档", "文档", {200: json_reply("OpenAPI 3.1 文档", "OpenApiDocument")},
                                     public=True),
    ("get", "/api/docs"): Op("接口说明页（离线 HTML）", "文档", {200: ("HTML 页面", {"text/html": {"schema": {"type": "string"}}})},
                             public=True),
    # Units
    ("get", "/api/units/tree"): Op("区划树", "区划", {200: json_reply("区划及其下级", "UnitTree")}, params=[
        ROOT, query("depth", {"type": "integer", "minimum": 1, "maximum": 3, "default": 1}, "下级层数")], errors=(404,)),
    ("get", "/api/units/search"): Op("按名称或代码查找区划（带所属区县）", "区划", {200: json_reply("匹配的区划", "UnitSearch")},
                                     params=[query("q", {"type": "string"}, "名称的一部分或代码前缀"),
                                             query("level", {"enum": list(LEVELS)}, "只找该级别"),
                                             query("limit", {"type": "integer", "minimum": 1, "maximum": 100,
                                                             "default": 20}, "最多条数")]),
    ("get", "/api/units/{code}"): Op("一个区划：上级、下级、预案、责任人、避险点", "区划",
                                     {200: json_reply("区划详情", "UnitDetail")},
                                     params=[path("code", {**CODE, "examples": ["410105000000"]}, "区划代码")],
                                     errors=(404,)),
    ("get", "/api/units.geojson"): Op("区划边界及预案状态（GeoJSON）", "区划",
                                      {200: ("RFC 7946 FeatureCollection",
                                             {"application/geo+json": {"schema": ref("FeatureCollection")}})},
                                      params=[query("level", {"enum": list(LEVELS)}, "只要该级别"), ROOT],
                                      errors=(404,)),
    # Contacts
    ("get", "/api/units/{code}/contacts"): Op("一个区划的责任人（各预案的及不属于预案的）", "责任人",
                                              {200: json_reply("责任人", "ContactList")}, params=[UNIT_CODE],
                                              errors=(404,)),
    ("get", "/api/contacts/{id}"): Op("一位联系人", "责任人", {200: json_reply("联系人", "Contact")},
                                      params=[CONTACT_ID], errors=(404,)),
    ("post", "/api/contacts"): Op("添加联系人（记入审计）", "责任人", {201: json_reply("已添加", "Contact")},
                                  body=json_body("ContactCreate")),
    ("patch", "/api/contacts/{id}"): Op("修改联系人（记入审计：修改前后）", "责任人", {200: json_reply("已修改", "Contact")},
                                        params=[CONTACT_ID], body=json_body("ContactUpdate"), errors=(404,)),
    ("delete", "/api/contacts/{id}"): Op("删除联系人（删除前的内容留在审计中）", "责任人",
                                         {200: json_reply("已删除", "Deleted")}, params=[CONTACT_ID], errors=(404,)),
    ("post", "/api/contacts/import"): Op(
        "导入责任人名单（CSV/XLSX）：文件列出的每个单位的责任人、副责任人以文件为准；有错误则整份不导入", "责任人",
        {200: json_reply("变更（dry_run=1 时未写入）", "ListImport")}, params=[DRY_RUN], body=UPLOAD, errors=(415,)),
    # Shelters
    ("get", "/api/units/{code}/shelters"): Op("一个区划的避险安置点", "避险安置点",
                                              {200: json_reply("避险安置点", "ShelterList")}, params=[UNIT_CODE],
                                              errors=(404,)),
    ("get", "/api/shelters/{id}"): Op("一个避险安置点", "避险安置点", {200: json_reply("避险安置点", "Shelter")},
                                      params=[SHELTER_ID], errors=(404,)),
    ("post", "/api/shelters"): Op("添加避险安置点（位置须在单位边界内或边界外 1 公里内；记入审计）", "避险安置点",
                                  {201: json_reply("已添加", "Shelter")}, body=json_body("ShelterFields")),
    ("patch", "/api/shelters/{id}"): Op("修改避险安置点（记入审计：修改前后）", "避险安置点",
                                        {200: json_reply("已修改", "Shelter")}, params=[SHELTER_ID],
                                        body=json_body("ShelterUpdate"), errors=(404,)),
    ("delete", "/api/shelters/{id}"): Op("删除避险安置点（删除前的内容留在审计中）", "避险安置点",
                                         {200: json_reply("已删除", "Deleted")}, params=[SHELTER_ID], errors=(404,)),
    ("post", "/api/shelters/import"): Op(
        "导入避险安置点（CSV/XLSX）：文件列出的每个单位的安置点以文件为准；有错误则整份不导入", "避险安置点",
        {200: json_reply("变更（dry_run=1 时未写入）", "ListImport")}, params=[DRY_RUN], body=UPLOAD, errors=(415,)),
    # Audit
    ("get", "/api/audit"): Op("审计记录（仅管理员）：谁在何时改了什么，最新的在前", "审计",
                              {200: json_reply("一页审计记录", "AuditPage")}, params=[
        query("target_type", {"type": "string", "maxLength": 100, "examples": ["contact", "shelter", "user",
                                                                               "notification", "plan"]}, "对象类型"),
        query("target_id", {"type": "string", "maxLength": 100, "examples": ["12"]}, "对象编号（须同时给出 target_type）"),
        query("actor", {"type": "string", "maxLength": 100, "examples": ["user:duty01", "cli"]}, "操作者"),
        query("since", {"type": "string", "examples": ["2026-07-20", "2026-07-20T06:00:00+08:00"]},
              "不早于（日期或时间；不带时区为北京时间）"),
        *_page(50, MAX_AUDIT)], errors=(403,)),
    # Plans
    ("get", "/api/plans"): Op("预案列表", "预案", {200: json_reply("一页预案", "PlanPage")}, params=[
        ROOT, query("kind", {"enum": list(KIND_LABELS)}, "预案类型"),
        query("status", {"enum": list(STATUS_LABELS)}, "状态"), query("level", {"enum": list(LEVELS)}, "区划级别"),
        query("due_before", DATE, "评估到期早于该日"), *_page(50, MAX_PLANS)], errors=(404,)),
    ("get", "/api/plans/{id}"): Op("一件预案：区划、修订记录、责任人、避险点", "预案",
                                   {200: json_reply("预案详情", "PlanDetail")}, params=[PLAN_ID], errors=(404,)),
    ("post", "/api/plans"): Op("登记预案（及其责任人）", "预案", {201: json_reply("已登记", "PlanDetail")},
                               body=json_body("PlanCreate"), errors=(404, 409)),
    ("patch", "/api/plans/{id}"): Op("修改预案字段；contacts 给出时整体替换责任人", "预案",
                                     {200: json_reply("已修改", "PlanDetail")}, params=[PLAN_ID],
                                     body=json_body("PlanUpdate"), errors=(404, 409)),
    ("post", "/api/plans/{id}/reviews"): Op("记录评估或修订（评估周期重新计算）", "预案",
                                            {201: json_reply("已记录", "PlanDetail")}, params=[PLAN_ID],
                                            body=json_body("ReviewBody"), errors=(404, 409)),
    ("post", "/api/plans/{id}/withdraw"): Op("废止预案（保留历史）", "预案", {200: json_reply("已废止", "PlanDetail")},
                                             params=[PLAN_ID], body=json_body("WithdrawBody"), errors=(404, 409)),
    # Absences
    ("post", "/api/contacts/{id}/absences"): Op(
        "登记责任人请假或出差：期间其预警通知改发代理人（指定的 AB角，否则本单位副责任人）", "请假出差",
        {201: json_reply("已登记", "Absence")}, params=[CONTACT_ID], body=json_body("AbsenceBody"), errors=(404,)),
    ("get", "/api/contacts/{id}/absences"): Op("一位联系人的请假、出差登记（新的在前）", "请假出差",
                                               {200: json_reply("登记列表", "AbsenceList")}, params=[CONTACT_ID],
                                               errors=(404,)),
    ("get", "/api/absences"): Op("某一时刻谁不在岗、由谁代理", "请假出差", {200: json_reply("不在岗的人", "AwayList")},
                                 params=[query("at", LOCAL_TIME, "时刻（默认现在）")]),
    ("post", "/api/absences/{id}/cancel"): Op("取消一条请假、出差登记（保留记录），此后通知发回本人", "请假出差",
                                              {200: json_reply("已取消", "Absence")},
                                              params=[path("id", {**ID, "examples": [1]}, "登记编号")],
                                              body=json_body("AbsenceCancel"), body_required=False,
                                              errors=(404, 409)),
    # Duty rosters
    ("get", "/api/duty/roster"): Op("值班表：某席位（省略为全部）在日期范围内的各班次", "值班", {200: json_reply("值班安排", "DutyRoster")},
                                   params=[query("desk", {"type": "string", "maxLength": 64}, "席位：city 或部门键"),
                                           query("from", DATE, "起始值班日（默认今天）"),
                                           query("to", DATE, "结束值班日（默认起始日后 30 天，最多 366 天）")]),
    ("get", "/api/duty/now"): Op("此刻各席位的值班员与带班领导", "值班", {200: json_reply("当前值班", "DutyNow")}),
    ("put", "/api/duty/roster/{desk}/{duty_date}/{shift}"): Op(
        "设置某席位某日某班次的值班员与带班领导（校验同导入；与当日其他班次重叠为 409）", "值班",
        {200: json_reply("已修改", "DutyRosterLine"), 201: json_reply("已新增", "DutyRosterLine")},
        params=DUTY_LINE, body=json_body("DutyLineBody"), errors=(409,)),
    ("delete", "/api/duty/roster/{desk}/{duty_date}/{shift}"): Op(
        "删除某席位某日某班次的值班安排（该时段回到配置的值班室联系方式）", "值班",
        {200: json_reply("已删除", "DutyDeleted")}, params=DUTY_LINE, errors=(404,)),
    # Warnings
    ("post", "/api/warnings"): Op(
        "接收预警：CAP 1.2 / GB/T 35965.1 XML 或手工录入表单（JSON）；dry_run=1 只预演", "预警",
        {200: ("已有同一预警（不重复保存），或 dry_run=1 的预演", {JSON: {"schema": {
            "oneOf": [ref("IntakeResult"), ref("DryRun")]}}}),
         201: json_reply("已保存预警及全部通知", "IntakeResult")},
        params=[query("dry_run", {"enum": ["0", "1", "true", "false"]}, "1：只预演，不保存"),
                query("lenient", {"enum": ["0", "1", "true", "false"]}, "1：CAP 宽松解析，跳过不合模式的部分")],
        body={JSON: ref("WarningForm"), **{kind: {"type": "string", "description": "CAP 1.2 XML 文档"}
                                           for kind in CAP_TYPES}},
        errors=(409, 415)),
    ("get", "/api/warnings"): Op("预警列表（最新的在前）", "预警", {200: json_reply("一页预警", "WarningPage")}, params=[
        query("status", {"enum": list(WARNING_STATUSES)}, "状态"), query("event", {"type": "string"}, "种类，如 暴雨"),
        query("colour", {"type": "string", "examples": list(COLOURS)}, "颜色：blue…red 或 蓝…红"),
        query("since", {"type": "string", "examples": ["2026-07-20", "2026-07-20T06:00:00+08:00"]},
              "发布时间不早于（日期或时间；不带时区为北京时间）"),
        *_page(50, MAX_WARNINGS)]),
    ("get", "/api/warnings/{id}"): Op("一条预警所在的整条递进线索", "预警", {200: json_reply("线索", "WarningThread")},
                                      params=[WARNING_ID], errors=(404,)),
    ("get", "/api/warnings/{id}/notifications"): Op(
        "预警的每个接收人：状态、尝试、叫应", "预警", {200: json_reply("一页接收人", "RecipientPage")},
        params=[WARNING_ID, query("state", {"enum": [*STATES, "overdue"]}, "只看该状态"), *_page(100, MAX_WARNINGS)],
        errors=(404,)),
    ("post", "/api/warnings/{id}/units"): Op("为无法定位的预警人工指定区划（随后照常发送）", "预警",
                                             {200: json_reply("已指定", "Assignment")}, params=[WARNING_ID],
                                             body=json_body("UnitAssign"), errors=(404, 409)),
    ("get", "/api/board/threads"): Op(
        "值班看板：生效中及最近结束的预警过程及其计数", "值班看板", {200: json_reply("预警过程", "BoardThreads")}, params=[
            query("hours", {"type": "integer", "minimum": 1, "maximum": 168, "default": 24}, "显示最近几小时内结束的过程")]),
    ("get", "/api/board/threads/{id}"): Op("一个预警过程（任一消息编号）的时间线与各消息计数", "值班看板",
                                           {200: json_reply("预警过程", "BoardThread")}, params=[WARNING_ID],
                                           errors=(404,)),
    ("get", "/api/board/threads/{id}/groups"): Op(
        "接收人按部门、区划分组的计数（parent 为上级分组）", "值班看板", {200: json_reply("分组", "BoardGroups")},
        params=[WARNING_ID, *BOARD_FILTERS, query("parent", GROUP, "上级分组（省略：部门与各区县）")], errors=(404,)),
    ("get", "/api/board/threads/{id}/recipients"): Op(
        "一个分组中符合筛选的接收人（最紧急的在前），分页", "值班看板", {200: json_reply("一页接收人", "BoardRecipients")},
        params=[WARNING_ID, *BOARD_FILTERS, query("group", GROUP, "分组（省略：全部）"),
                query("page", {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1}, "页码"),
                query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
                      "每页条数")], errors=(404,)),
    ("post", "/api/acks/{token}"): Op("叫应（确认收到）：链接中的令牌即凭据", "叫应",
                                      {200: json_reply("已确认", "Acknowledged")},
                                      params=[path("token", {"type": "string", "maxLength": 200}, "叫应令牌")],
                                      errors=(404, 429), public=True),
    # Events
    ("get", "/api/events"): Op("事件列表（降雨过程、雨雪冰冻）", "事件", {200: json_reply("事件", "EventList")}, params=[
        query("year", {"type": "integer", "minimum": 1900, "maximum": 2200}, "开始于该年"),
        query("kind", {"type": "string", "examples": ["rainfall", "snow_ice"]}, "事件类型"),
        query("status", {"enum": ["open", "closed"]}, "进行中或已结束")]),
    ("get", "/api/events/{id}"): Op("一个事件：预警、影响区划、通知与叫应、决策与日志数", "事件",
                                    {200: json_reply("事件详情", "EventDetail")}, params=[EVENT_ID], errors=(404,)),
    ("post", "/api/events"): Op("人工开启事件", "事件", {201: json_reply("已开启", "EventDetail")},
                                body=json_body("EventOpen"), errors=(409,)),
    ("post", "/api/events/{id}/close"): Op("人工结束事件", "事件", {200: json_reply("已结束", "EventDetail")},
                                           params=[EVENT_ID], body=json_body("EventClose"), errors=(404, 409)),
    ("post", "/api/events/{id}/warnings"): Op("把预警（及其线索）人工归入事件", "事件",
                                              {200: json_reply("已归入", "EventDetail")}, params=[EVENT_ID],
                                              body=json_body("EventLink"), errors=(404, 409)),
    ("get", "/api/events/{id}/proposal"): Op("按当前生效预警建议的响应级别", "响应决策",
                                             {200: json_reply("建议（无则为 null）", "Proposal")}, params=[EVENT_ID],
                                             errors=(404,)),
    ("get", "/api/events/{id}/decisions"): Op("事件的响应决策", "响应决策", {200: json_reply("决策", "DecisionList")},
                                              params=[EVENT_ID], errors=(404,)),
    ("post", "/api/events/{id}/decisions"): Op("记录启动、提升、降低或终止应急响应并通知各部门", "响应决策",
                                               {201: json_reply("已记录", "Decision")}, params=[EVENT_ID],
                                               body=json_body("DecisionBody"), errors=(404, 409)),
    ("get", "/api/events/{id}/journal"): Op("事件日志（只追加）及合计", "事件日志", {200: json_reply("日志", "Journal")},
                                            params=[EVENT_ID], errors=(404,)),
    ("post", "/api/events/{id}/journal"): Op("追加一条日志（填报账号只能为本部门填报）", "事件日志",
                                             {201: json_reply("已追加", "JournalEntry")}, params=[EVENT_ID],
                                             body=json_body("JournalEntryBody"), errors=(404, 409)),
    ("get", "/api/events/{id}/journal/{entry_id}"): Op(
        "一条日志", "事件日志", {200: json_reply("日志条目", "JournalEntry")},
        params=[EVENT_ID, path("entry_id", {**ID, "examples": [1]}, "日志条目编号")], errors=(404,)),
    ("get", "/api/events/{id}/sms-replies"): Op("事件的待核实短信回复", "事件日志", {200: json_reply("短信回复", "SmsReports")},
                                                params=[EVENT_ID], errors=(404,)),
    ("post", "/api/events/{id}/sms-replies/{reply_id}/journal"): Op(
        "把短信回复记入事件日志（一次）", "事件日志", {201: json_reply("已记入", "JournalEntry")},
        params=[EVENT_ID, path("reply_id", {**ID, "examples": [1]}, "短信回复编号")],
        body=json_body("SmsReportToJournal"), body_required=False, errors=(404, 409)),
    # Reports
    ("get", "/api/reports/annual"): Op(
        "年度统计报告", "报告",
        {200: ("所选格式的报告", {MEDIA_TYPES[name].split(";")[0]: {
            "schema": ref("AnnualReport") if name == "json" else {"type": "string"}} for name in FORMATS})},
        params=[query("year", {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR, "examples": [2025]},
                      "统计年份（北京时间的自然年）", required=True),
                query("format", {"enum": list(FORMATS), "default": "json"}, "格式")]),
    # Drills
    ("post", "/api/drills"): Op(
        "开始叫应演练（editor）：范围内每位责任人和值班席位收到标有【演练】的消息并须叫应，提醒和上报只在演练范围内", "演练",
        {201: json_reply("已开始（消息已放入发件箱）；Location 为该演练", "DrillStarted")}, body=json_body("DrillStart")),
    ("get", "/api/drills"): Op("最近的演练（新的在前）", "演练", {200: json_reply("演练列表", "Drills")}),
    ("get", "/api/drills/{id}"): Op("一次演练", "演练", {200: json_reply("演练", "Drill")}, params=[DRILL_ID],
                                    errors=(404,)),
    ("get", "/api/drills/{id}/report"): Op(
        "演练报告：各区县未联系上的人员（无联系方式、送达失败、到时未叫应）与叫应用时", "演练",
        {200: ("报告（format=xlsx：按区县、人员明细两个工作表）", {
            JSON: {"schema": ref("DrillReport")},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string"}}})},
        params=[DRILL_ID, query("format", {"enum": ["json", "xlsx"], "default": "json"}, "格式")], errors=(404,)),
    # Gateways
    ("post", "/api/callbacks/sms/{channel}"): Op(
        "短信网关推送上行短信（回复 1/收到 即叫应）；以签名为凭据", "网关回调",
        {200: json_reply("已保存（重复推送只保存一次）", "SmsCallbackReply")},
        params=[path("channel", {"type": "string"}, "[warnings.channels] 中的短信渠道名"), SIGNATURE],
        body=json_body("InboundSms"), errors=(401, 404, 503), public=True),
    ("post", "/api/callbacks/voice/{channel}"): Op(
        "语音网关推送呼叫结果（按 1 即叫应）；以签名为凭据", "网关回调",
        {200: json_reply("已记录（重复推送不改变任何内容）", "VoiceCallbackReply")},
        params=[path("channel", {"type": "string"}, "[warnings.channels] 中的语音渠道名"), SIGNATURE],
        body=json_body("CallReport"), errors=(401, 404, 503), public=True),
    ("post", "/api/callbacks/voice/{channel}/{token}"): Op(
        "阿里云语音服务推送呼叫记录（VoiceReport）；地址中的令牌即凭据", "网关回调",
        {200: json_reply("已接收", "AliyunTaken")},
        params=[path("channel", {"type": "string"}, "阿里云语音渠道名"),
                path("token", {"type": "string"}, "callback_token_env 所指的令牌")],
        body=json_body("AliyunVoiceReport"), errors=(401, 404, 503), public=True),
}
# The journal only grows: its PUT, PATCH and DELETE answer 405 with the way to correct.
_ENTRY_ID = path("entry_id", ID, "日志条目编号")
for _method in ("put", "patch", "delete"):
    for _path, _params in (("/api/events/{id}/journal", [EVENT_ID]),
                           ("/api/events/{id}/journal/{entry_id}", [EVENT_ID, _ENTRY_ID])):
        OPERATIONS[(_method, _path)] = Op("不允许：事件日志只能追加，更正请追加更正条目（corrects_id）", "事件日志",
                                          {}, params=_params, errors=(405,))


def _error(status: int) -> dict:
    return {"description": ERRORS[status], "content": {JSON: {"schema": ref("Error")}}}


def operation(method: str, route: str, op: Op, handler_doc: str | None) -> dict:
    """The OpenAPI operation object of `op`, with the error replies of its kind."""
    errors = set(op.errors)
    if op.params or op.body:
        errors.add(400)
    if op.body:
        errors.add(413)
    if not op.public:
        errors |= {401, 503}   # 503: the database cannot be reached now (reads too), with Retry-After
        if method in WRITES:
            errors.add(403)
    responses = {}
    for status, (text, content) in sorted(op.replies.items()):
        responses[str(status)] = {"description": text, **({"content": content} if content else {})}
    for status in sorted(errors):
        responses[str(status)] = _error(status)
    for status in {429, 503} & errors:
        responses[str(status)]["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "秒数"}}
    result = {"operationId": operation_id(method, route), "summary": op.summary, "tags": [op.tag],
              "responses": responses}
    if handler_doc:
        result["description"] = " ".join(handler_doc.split())
    if op.params:
        result["parameters"] = list(op.params)
    if op.body:
        result["requestBody"] = {"required": op.body_required,
                                 "content": {kind: {"schema": schema} for kind, schema in op.body.items()}}
    if op.public:
        result["security"] = []
    return result


def operation_id(method: str, route: str) -> str:
    """`post /api/events/{id}/journal` -> `post_events_id_journal`."""
    words = [part.strip("{}").replace(".", "_").replace("-", "_") for part in route.removeprefix("/api/").split("/")]
    return "_".join([method, *words])
