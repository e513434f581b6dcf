"""Version 2024 of the national templates: 实习数据, 实习培养方案 and 学籍名单.

Column order is the order of the national 实习数据 template as schools' own exports
show it; the export for sx.chsi.com.cn writes exactly this order. Maximum lengths are
sxpt's own limits (the national system does not publish its field sizes); they are
generous enough for real names of units and courses.
"""

from __future__ import annotations

from sxpt_core.templates import Column, Template, register_template

YES_NO = ("是", "否")
YES_NO_ALIASES = {"Y": "是", "N": "否", "YES": "是", "NO": "否", "有": "是", "无": "否", "√": "是", "×": "否"}

INTERNSHIP_TYPES = ("认识实习", "专业实习", "生产实习", "毕业实习")
ORGANISATION_FORMS = ("集中实习", "分散实习")
MODES = ("现场实习", "虚拟实习", "模拟实习")
UNIT_SOURCES = ("学校安排", "学生自主联系")
TERMS = ("第一学期", "第二学期", "第三学期")
LEVELS = ("本科", "专科", "专升本")
STATUSES = ("在籍", "休学", "退学", "毕业", "结业")

TYPE_ALIASES = {"认识": "认识实习", "专业": "专业实习", "生产": "生产实习", "毕业": "毕业实习"}
FORM_ALIASES = {"集中": "集中实习", "分散": "分散实习"}
MODE_ALIASES = {"现场": "现场实习", "虚拟": "虚拟实习", "模拟": "模拟实习", "线下": "现场实习"}
SOURCE_ALIASES = {"学校": "学校安排", "自主联系": "学生自主联系", "自主": "学生自主联系", "学生自主": "学生自主联系"}
TERM_ALIASES = {
    "第1学期": "第一学期", "第2学期": "第二学期", "第3学期": "第三学期",
    "1": "第一学期", "2": "第二学期", "3": "第三学期",
    "秋季学期": "第一学期", "春季学期": "第二学期", "夏季学期": "第三学期",
}
LEVEL_ALIASES = {"专升本科": "专升本", "普通本科": "本科", "高职": "专科", "高职专科": "专科"}


def _yes_no(header: str, attr: str, *, aliases: tuple[str, ...] = (), zh: str = "") -> Column:
    return Column(
        header, attr, "yesno", aliases=aliases, choices=YES_NO, choice_aliases=YES_NO_ALIASES,
        description=(zh or f"{header}：填“是”或“否”。", f"{header}: 是 (yes) or 否 (no)."),
    )


RECORDS = Template(
    kind="records",
    version="2024",
    title="实习数据",
    columns=(
        Column("学号", "student_id", "id", max_length=30,
               description=("学生学号，与学籍信息一致；请设为文本格式，保留开头的 0。",
                            "Student number as in the registry; keep the cell as text.")),
        Column("学生姓名", "student_name", "name", aliases=("姓名",), max_length=50,
               description=("学生姓名，与学籍信息一致；少数民族姓名用“·”分隔。",
                            "Student name as in the registry; minority names use '·'.")),
        Column("入学年份", "enrolment_year", "year", aliases=("入学年级", "年级"),
               description=("入学年份，四位数字，例如 2022。", "Year of enrolment, e.g. 2022.")),
        Column("院系", "department", "text", aliases=("院系名称", "学院"), max_length=50,
               description=("学生所在院系的全称。", "Full name of the student's department.")),
        Column("班级", "class_name", "text", aliases=("班级名称",), max_length=50,
               description=("学生所在班级。", "The student's class.")),
        Column("课程名称", "course_name", "text", max_length=100,
               description=("人才培养方案中的实习课程名称。", "Course name as in the training plan.")),
        Column("课程代码", "course_code", "id", aliases=("课程编号", "课程号"), max_length=30,
               description=("人才培养方案中的课程代码；请设为文本格式。",
                            "Course code as in the training plan; keep the cell as text.")),
        Column("学分", "credits", "credits",
               description=("该课程的学分，大于 0，最多一位小数；同一课程多地实习时每条均填该课程的学分。",
                            "Course credits, > 0, one decimal place at most.")),
        Column("实习类型", "internship_type", "choice", choices=INTERNSHIP_TYPES,
               choice_aliases=TYPE_ALIASES,
               description=("认识实习、专业实习、生产实习或毕业实习。", "One of the four internship types.")),
        Column("实习组织形式", "organisation_form", "choice", choices=ORGANISATION_FORMS,
               choice_aliases=FORM_ALIASES, aliases=("组织形式",),
               description=("集中实习或分散实习。", "集中实习 (group) or 分散实习 (individual).")),
        Column("实习方式", "mode", "choice", choices=MODES, choice_aliases=MODE_ALIASES,
               description=("现场实习、虚拟实习或模拟实习。", "On site, virtual or simulated.")),
        Column("学年", "academic_year", "academic_year",
               description=("课程所在学年，写作 2024-2025。", "Academic year of the course, e.g. 2024-2025.")),
        Column("校内指导教师", "school_supervisor", "name", aliases=("校内指导教师姓名",), max_length=50,
               description=("校内指导教师姓名，多人用顿号分隔。", "School supervisor(s).")),
        Column("实习单位名称", "unit_name", "text", aliases=("单位名称",), max_length=100,
               description=("实习单位在登记机关登记的全称；校内实习填本校全称。",
                            "Registered full name of the host; for on-campus work, the school's name.")),
        Column("实习单位统一社会信用代码", "unit_code", "uscc",
               aliases=("统一社会信用代码", "单位统一社会信用代码", "实习单位信用代码"),
               description=("18 位统一社会信用代码；国外及港澳台实习填“无”。",
                            "18-character USCC; 无 for internships abroad, in HK, Macao or Taiwan.")),
        Column("实习地区及代码", "city_code", "city", aliases=("实习地区代码", "城市代码"),
               description=("实习所在城市的六位代码，可写作 330100 或 杭州市-330100；国外填 990000。",
                            "Six-digit city code, e.g. 330100 or 杭州市-330100; 990000 abroad.")),
        Column("实习详细地址", "address", "text", required=False, max_length=200,
               description=("实习地点的详细地址（选填）。", "Street address (optional).")),
        _yes_no("是否有实习责任险", "has_liability_insurance"),
        _yes_no("是否有人身意外险", "has_accident_insurance"),
        _yes_no("是否进行实习安全教育和培训", "had_safety_training"),
        _yes_no("是否签订实习三方协议", "signed_agreement"),
        Column("实习单位获取方式", "unit_source", "choice", choices=UNIT_SOURCES,
               choice_aliases=SOURCE_ALIASES,
               description=("学校安排或学生自主联系。", "Arranged by the school or found by the student.")),
        _yes_no("实习单位是否有安全应急预案", "unit_has_emergency_plan", aliases=("实习单位是否有安全应急",)),
        _yes_no("实习单位是否为校级及以上实习基地", "is_school_base"),
        _yes_no("实习单位是否为数智赋能实习基地", "is_digital_base"),
        _yes_no("实习单位是否为海外实习基地", "is_overseas_base"),
        Column("实习开始时间", "start_date", "date", aliases=("开始时间", "实习开始日期"),
               description=("实习第一天，例如 2024-07-01。", "First day, e.g. 2024-07-01.")),
        Column("实习结束时间", "end_date", "date", aliases=("结束时间", "实习结束日期"),
               description=("实习最后一天；结束后的下一个月报送。", "Last day; reported the month after.")),
        Column("实际实习天数", "actual_days", "days", aliases=("实习天数",),
               description=("实际实习的天数，至少 1 天，不超过起止日期之间的天数。",
                            "Days actually worked: at least 1, at most the date span.")),
        Column("实习岗位", "position", "text", required=False, max_length=50,
               description=("实习岗位（选填）。", "Position (optional).")),
        Column("实习报酬（元/月）", "pay", "money", required=False, aliases=("实习报酬",),
               description=("每月报酬，单位元，没有报酬填 0（选填）。", "Monthly pay in yuan (optional).")),
        Column("企业指导人员姓名", "mentor_name", "name", required=False, max_length=50,
               description=("实习单位指导人员姓名（选填）。", "Host mentor's name (optional).")),
        Column("企业指导人员电话", "mentor_phone", "phone", required=False,
               description=("实习单位指导人员电话，手机或带区号的固定电话（选填）。",
                            "Host mentor's phone, mobile or landline with area code (optional).")),
        Column("专业", "major", "text", required=False, aliases=("专业名称",), max_length=100,
               exported=False,
               description=("学生所在专业（选填，不导出），有助于核对实习培养方案。",
                            "Major (optional, not exported); helps the plan check.")),
    ),
)

PLAN = Template(
    kind="plan",
    version="2024",
    title="实习培养方案",
    columns=(
        Column("学年", "academic_year", "academic_year",
               description=("学年，写作 2024-2025。", "Academic year, e.g. 2024-2025.")),
        Column("学期", "term", "term", choices=TERMS, choice_aliases=TERM_ALIASES,
               description=("第一学期、第二学期或第三学期。", "Term.")),
        Column("院系", "department", "text", aliases=("院系名称", "学院"), max_length=50,
               description=("开设课程的院系全称。", "Department.")),
        Column("专业代码", "major_code", "major_code",
               description=("本科专业目录中的专业代码，例如 080901。", "Major code, e.g. 080901.")),
        Column("专业名称", "major", "text", aliases=("专业",), max_length=100,
               description=("专业名称。", "Major name.")),
        Column("年级", "grade", "year", aliases=("入学年份",),
               description=("年级（入学年份），例如 2022。", "Cohort (year of enrolment).")),
        Column("课程代码", "course_code", "id", aliases=("课程编号", "课程号"), max_length=30,
               description=("实习课程代码；请设为文本格式。", "Course code; keep as text.")),
        Column("课程名称", "course_name", "text", max_length=100,
               description=("实习课程名称。", "Course name.")),
        Column("学分", "credits", "credits", description=("课程学分。", "Credits.")),
        Column("实习类型", "internship_type", "choice", choices=INTERNSHIP_TYPES,
               choice_aliases=TYPE_ALIASES, description=("实习类型。", "Internship type.")),
        Column("实习组织形式", "organisation_form", "choice", choices=ORGANISATION_FORMS,
               choice_aliases=FORM_ALIASES, aliases=("组织形式",),
               description=("实习组织形式。", "Organisation form.")),
        Column("实习方式", "mode", "choice", choices=MODES, choice_aliases=MODE_ALIASES,
               description=("实习方式。", "Mode.")),
        Column("计划实习周数", "planned_weeks", "credits", aliases=("实习周数",),
               description=("计划实习周数，大于 0。", "Planned weeks, > 0.")),
        Column("计划实习人数", "planned_students", "count", aliases=("实习人数",),
               description=("计划参加实习的学生人数。", "Planned number of students.")),
    ),
)

ROSTER = Template(
    kind="roster",
    version="2024",
    title="学籍名单",
    # Only 学号 and 姓名 are required: a roster exported from the registry often has no
    # more. A missing 层次 reads as 本科 and a missing 学籍状态 as 在籍.
    columns=(
        Column("学校名称", "school", "text", required=False, aliases=("院校名称",), max_length=100,
               description=("学校全称。", "School name.")),
        Column("学号", "student_id", "id", max_length=30, description=("学号。", "Student number.")),
        Column("姓名", "student_name", "name", aliases=("学生姓名",), max_length=50,
               description=("姓名。", "Name.")),
        Column("院系", "department", "text", required=False, aliases=("院系名称", "学院"), max_length=50,
               description=("院系。", "Department.")),
        Column("专业", "major", "text", required=False, aliases=("专业名称",), max_length=100,
               description=("专业。", "Major.")),
        Column("层次", "level", "choice", required=False, choices=LEVELS, choice_aliases=LEVEL_ALIASES,
               aliases=("培养层次",), description=("本科、专科或专升本；空白按本科。", "Level; blank means 本科.")),
        Column("学籍状态", "status", "choice", required=False, choices=STATUSES,
               description=("在籍、休学、退学、毕业或结业；空白按在籍。", "Registry status; blank means 在籍.")),
        Column("入学日期", "enrolment_date", "date", required=False,
               description=("入学日期（专升本学生填本科阶段的入学日期）。", "Enrolment date.")),
    ),
)

for _template in (RECORDS, PLAN, ROSTER):
    register_template(_template)
