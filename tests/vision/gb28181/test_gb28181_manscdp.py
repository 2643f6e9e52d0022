"""MANSCDP bodies as the standard's examples write them, and hostile ones refused by name."""

from __future__ import annotations

import pytest

from vision.gb28181 import manscdp
from vision.gb28181.errors import ManscdpError
from vision.gb28181.manscdp import AlarmNotify, CatalogResponse, Keepalive

CATALOG = ('<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>17430</SN>\r\n'
           '<DeviceID>64010000001110000001</DeviceID>\r\n<SumNum>2</SumNum>\r\n<DeviceList Num="2">\r\n'
           '<Item><DeviceID>64010000001340000101</DeviceID><Name>摄像机1</Name><CivilCode>640100</CivilCode>'
           '<Status>ON</Status><Longitude>127.5</Longitude><Latitude>50.2</Latitude></Item>\r\n'
           '<Item><DeviceID>64010000002150000001</DeviceID><Name>分组</Name><Longitude>0</Longitude>'
           '<Latitude>0</Latitude></Item>\r\n</DeviceList>\r\n</Response>\r\n').encode("gb18030")


def test_catalog_response_in_gb2312_with_positions_and_groups() -> None:
    parsed = manscdp.parse(CATALOG)
    assert isinstance(parsed, CatalogResponse) and parsed.sum_num == 2 and parsed.sn == 17430
    camera, group = parsed.items
    assert (camera.name, camera.civil_code, camera.longitude, camera.latitude) == ("摄像机1", "640100", 127.5, 50.2)
    assert (group.longitude, group.latitude, group.civil_code) == (None, None, "640100")  # 0 = not set
    assert not camera.is_camera  # type 134 is an alarm input, not a camera
    assert not group.is_camera


def test_keepalive_and_alarm() -> None:
    keepalive = manscdp.parse(b"<Notify><CmdType>Keepalive</CmdType><SN>43</SN>"
                              b"<DeviceID>64010000001110000001</DeviceID><Status>OK</Status></Notify>")
    assert keepalive == Keepalive("64010000001110000001", 43, "OK")
    alarm = manscdp.parse(b"<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>64010000001320000001</DeviceID>"
                          b"<AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod>"
                          b"<AlarmTime>2009-12-04T16:23:32</AlarmTime><Info><AlarmType>11</AlarmType></Info></Notify>")
    assert isinstance(alarm, AlarmNotify) and (alarm.method, alarm.alarm_type, alarm.priority) == (5, 11, 1)


def test_commands_written_parse_back() -> None:
    assert b"<GuardCmd>SetGuard</GuardCmd>" in manscdp.guard_command(3, "64010000001110000001")
    assert b"<CmdType>Catalog</CmdType>" in manscdp.catalog_query(4, "64010000001110000001")
    with pytest.raises(ManscdpError, match="DeviceID"):
        manscdp.catalog_query(1, "6401</DeviceID><x>")


@pytest.mark.parametrize(("body", "named"), [
    (b'<!DOCTYPE x [<!ENTITY a "b">]><Notify/>', "DOCTYPE"),
    (b"<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>12</DeviceID></Notify>", "DeviceID"),
    (b"<Notify><CmdType>Keepalive</CmdType><DeviceID>64010000001110000001</DeviceID></Notify>", "SN: missing"),
    (b"<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>64010000001110000001</DeviceID>"
     b"<AlarmPriority>9</AlarmPriority></Notify>", "AlarmPriority: 9"),
    (b"<Notify><CmdType>Reboot</CmdType></Notify>", "unsupported"),
    (b'<?xml version="1.0" encoding="nonsense"?><a/>', "encoding"),
    (b"<a>" * 10 + b"x", "not well-formed"),
    (b" " * (manscdp.MAX_BODY + 1), "bytes"),
])
def test_bad_bodies_are_refused_naming_the_field(body: bytes, named: str) -> None:
    with pytest.raises(ManscdpError, match=named):
        manscdp.parse(body)


def test_catalog_notification_items_carry_their_event() -> None:
    body = ('<?xml version="1.0" encoding="GB2312"?><Notify><CmdType>Catalog</CmdType><SN>3</SN>'
            "<DeviceID>34020000001320000001</DeviceID><SumNum>2</SumNum><DeviceList Num=\"2\">"
            "<Item><DeviceID>34020000001320000002</DeviceID><Name>北门</Name><Longitude>127.5</Longitude>"
            "<Latitude>50.2</Latitude><Event>add</Event></Item>"
            "<Item><DeviceID>34020000001320000003</DeviceID><Event>DEL</Event></Item>"
            "</DeviceList></Notify>").encode("gb18030")
    notify = manscdp.parse(body)
    assert isinstance(notify, manscdp.CatalogNotify)
    assert [(i.device_id[-1], i.event, i.longitude) for i in notify.items] == [("2", "ADD", 127.5), ("3", "DEL", None)]
    for event, named in (("<Event>BOOM</Event>", "Item/Event"), ("", "Item/Event")):
        with pytest.raises(ManscdpError, match=named):
            manscdp.parse(body.replace(b"<Event>DEL</Event>", event.encode()))
