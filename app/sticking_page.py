"""The Packet-sticking (粘包) tab: reproduce message-boundary loss on demand, show why, show the cures
(the re-chunking relay has its own tab: app/relay_page.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.fit import FlexSplitter, scroll_area
from app.panes import EnginePane, Page, labelled_row
from app.settings import str_value
from netcore.engines.sticking import ScenarioEngine
from netcore.errors import InputError, SocketLabError
from netcore.model.events import Event, ScenarioFinished, ScenarioStepped
from netcore.model.scenario import PRESETS, Call, Cure, Scenario, ScenarioResult, Text, variable_output
from netcore.model.traffic import Direction, make_chunk
from netcore.present import pycode
from netcore.protocols.framing import Frame
from netcore.protocols.payload import escape_text, parse_text
from widgets import style
from widgets.plain_text import PlainLabel
from widgets.timeline import LaneTimeline, Span

FRAME_COLOUR = style.FIELD_SHADES[2]


def said(text: Text) -> str:
    """netcore's *text* in the user's language: its templates translated (context "Verdict"), its
    params filled; netcore's English where there is no translation."""
    return text.said(lambda template: QCoreApplication.translate("Verdict", template))


class ScenarioPane(EnginePane):
    """Knobs for both ends, Run and Step, the three lanes, the verdict and the received bytes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Scenario"), parent)
        self.engine: ScenarioEngine | None = None
        self._result: ScenarioResult | None = None  # this run's, shown in the verdict
        self._details: Callable[[], str] = str  # says the details line (again, at a language change)
        self._applying = False  # a preset is being shown: its changes are no edit
        self.preset = QComboBox(self)
        self.preset.addItem(self.tr("(custom)"), "")
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.messages = QPlainTextEdit(self)
        self.messages.setToolTip(self.tr("One message per line; escapes \\n \\r \\t \\0 \\xHH work"))
        self.messages.setFixedHeight(self.messages.fontMetrics().height() * 5 + 12)
        self.generate_count = QSpinBox(self)
        self.generate_count.setRange(1, 10_000)
        self.generate_count.setValue(10)
        self.generate_size = QSpinBox(self)
        self.generate_size.setRange(1, 1_000_000)
        self.generate_size.setValue(8)
        self.generate_size.setSuffix(self.tr(" B"))
        self.generate_button = QPushButton(self.tr("Generate"), self)
        self.variable_button = QPushButton(self.tr("Variable-length output"), self)
        self.variable_button.setToolTip(
            self.tr(
                "Replies of very different lengths, like the course's remote-command server's "
                "(no command is ever run)"
            )
        )
        self.sendall = QComboBox(self)
        self.sendall.addItem(self.tr("a send() per message"), False)
        self.sendall.addItem(self.tr("all in one sendall()"), True)
        self.gap = QSpinBox(self)
        self.gap.setRange(0, 10_000)
        self.gap.setSuffix(self.tr(" ms"))
        self.gap.setToolTip(self.tr("Pause between the sender's messages"))
        self.nodelay = QCheckBox(self.tr("TCP_NODELAY"), self)
        self.cure = QComboBox(self)
        for cure, label in (
            (Cure.NONE, self.tr("none: raw bytes")),
            (Cure.LENGTH, self.tr("length prefix struct.pack('!I', n)")),
            (Cure.DELIMITER, self.tr("delimiter \\n")),
            (Cure.JSON, self.tr("JSON header + body")),
            (Cure.ANNOUNCE, self.tr("announce length, wait for recv_ready")),
        ):
            self.cure.addItem(label, cure.value)
        self.recv_delay = QSpinBox(self)
        self.recv_delay.setRange(0, 10_000)
        self.recv_delay.setSuffix(self.tr(" ms"))
        self.recv_delay.setToolTip(self.tr("The receiver sleeps this long before its first recv()"))
        self.recv_size = QSpinBox(self)
        self.recv_size.setRange(1, 1_048_576)
        self.recv_size.setPrefix("recv(")
        self.recv_size.setSuffix(")")
        self.recv_sizes = QLineEdit(self)
        self.recv_sizes.setPlaceholderText(self.tr("e.g. 2, 10 (then recv size)"))
        self.recv_gap = QSpinBox(self)
        self.recv_gap.setRange(0, 10_000)
        self.recv_gap.setSuffix(self.tr(" ms"))
        self.max_recvs = QSpinBox(self)
        self.max_recvs.setRange(0, 100_000)
        self.max_recvs.setSpecialValueText(self.tr("until all arrived"))
        self.run_button = QPushButton(self.tr("&Run"), self)
        self.run_button.setToolTip(self.tr("Run the scenario (Ctrl+R)"))
        self.step_button = QPushButton(self.tr("S&tep"), self)
        self.step_button.setToolTip(
            self.tr("Step mode: one recv() per click (Ctrl+T); shows the bytes waiting")
        )
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.verdict = PlainLabel(self.tr("Choose a preset and press Run"), self)
        self.verdict.setWordWrap(True)
        big = self.verdict.font()
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.verdict.setFont(big)
        self.details = PlainLabel(self)
        self.details.setWordWrap(True)
        self.timeline = LaneTimeline(self)

        form = QFormLayout()
        form.addRow(self.tr("Preset"), self.preset)
        form.addRow(self.tr("Messages"), self.messages)
        generate = QHBoxLayout()
        generate.addWidget(self.generate_count)
        generate.addWidget(PlainLabel("×", self))
        generate.addWidget(self.generate_size)
        generate.addWidget(self.generate_button)
        generate.addWidget(self.variable_button)
        generate.addStretch(1)
        form.addRow("", generate)
        sender = labelled_row(self, self.sendall, self.tr("gap"), self.gap, self.nodelay)
        form.addRow(self.tr("Sender"), sender)
        form.addRow(self.tr("Framing"), self.cure)
        receiver = labelled_row(self, self.tr("wait"), self.recv_delay, self.recv_size, stretch=False)
        receiver.addWidget(self.recv_sizes, 1)
        form.addRow(self.tr("Receiver"), receiver)
        receiver2 = labelled_row(self, self.tr("gap"), self.recv_gap, self.tr("stop after"), self.max_recvs)
        form.addRow("", receiver2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.step_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        controls = QWidget(self)
        controls_layout = QVBoxLayout(controls)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        controls_layout.addLayout(form)
        controls_layout.addLayout(buttons)
        controls_layout.addWidget(self.state)
        controls_layout.addStretch(1)
        results = QWidget(self)
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.verdict)
        results_layout.addWidget(self.details)
        results_layout.addWidget(self.timeline)
        results_layout.addWidget(self.view, 1)
        # Side by side when both fit, else one above the other (zoom ×2); each scrolls if it must.
        splitter = FlexSplitter(self, rest=1)  # the results take what the controls leave
        splitter.addWidget(scroll_area(controls, splitter))
        splitter.addWidget(scroll_area(results, splitter))
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.preset.currentIndexChanged.connect(self._apply_preset)
        self.preset.activated.connect(self._apply_preset)  # choosing the same preset again restores it
        for changed in (
            self.messages.textChanged,
            self.sendall.currentIndexChanged,
            self.gap.valueChanged,
            self.nodelay.toggled,
            self.cure.currentIndexChanged,
            self.recv_delay.valueChanged,
            self.recv_size.valueChanged,
            self.recv_sizes.textChanged,
            self.recv_gap.valueChanged,
            self.max_recvs.valueChanged,
        ):
            changed.connect(self._name_preset)
        self.generate_button.clicked.connect(self._generate)
        self.variable_button.clicked.connect(
            lambda: self._set_messages(variable_output(self.generate_count.value()))
        )
        self.run_button.clicked.connect(self.run)
        self.step_button.clicked.connect(self.step)
        self.stop_button.clicked.connect(self.stop)
        QShortcut(QKeySequence("Ctrl+R"), self, self.run)
        QShortcut(QKeySequence("Ctrl+T"), self, self.step)
        self.preset.setCurrentIndex(1)
        self._set_running(False)

    # -- scenario <-> widgets -------------------------------------------------------------------
    def _set_messages(self, messages: tuple[bytes, ...]) -> None:
        self.messages.setPlainText("\n".join(escape_text(m, keep_newlines=False) for m in messages))

    def _generate(self) -> None:
        size = self.generate_size.value()
        self._set_messages(tuple(bytes([65 + i % 26]) * size for i in range(self.generate_count.value())))

    def _apply_preset(self) -> None:
        name = self.preset.currentData()
        if not name:
            return
        s = PRESETS[name]
        self._applying = True
        try:
            self._show_scenario(s)
        finally:
            self._applying = False
        self._name_preset()

    def _show_scenario(self, s: Scenario) -> None:
        self._set_messages(s.messages)
        self.sendall.setCurrentIndex(1 if s.sendall else 0)
        self.gap.setValue(round(s.gap_s * 1000))
        self.nodelay.setChecked(s.nodelay)
        self.cure.setCurrentIndex(self.cure.findData(s.cure.value))
        self.recv_delay.setValue(round(s.recv_delay_s * 1000))
        self.recv_size.setValue(s.recv_size)
        self.recv_sizes.setText(", ".join(str(n) for n in s.recv_sizes))
        self.recv_gap.setValue(round(s.recv_gap_s * 1000))
        self.max_recvs.setValue(s.max_recvs or 0)

    def edited(self) -> bool:
        """Whether the widgets no longer say what the chosen preset says."""
        name = self.preset.currentData()
        if not name:
            return False
        try:
            return self.scenario() != PRESETS[name]
        except SocketLabError:
            return True

    def _name_preset(self) -> None:
        """Each preset's name in the combo, the chosen one followed by "(edited)" once changed."""
        if self._applying:
            return
        edited = self.edited()
        for i in range(1, self.preset.count()):
            name = self.preset.itemData(i)
            text = (
                self.tr("{0} (edited)").format(name) if edited and i == self.preset.currentIndex() else name
            )
            self.preset.setItemText(i, text)

    def scenario(self) -> Scenario:
        """The scenario the widgets describe; ``InputError`` pointing at what is wrong."""
        lines = self.messages.toPlainText().split("\n")
        messages = tuple(parse_text(line) for line in lines)
        sizes_text = self.recv_sizes.text().replace(",", " ").split()
        if not all(t.isdigit() for t in sizes_text):
            raise InputError(self.tr("recv sizes must be whole numbers separated by commas"))
        return Scenario(
            messages,
            sendall=bool(self.sendall.currentData()),
            gap_s=self.gap.value() / 1000,
            nodelay=self.nodelay.isChecked(),
            cure=Cure(self.cure.currentData()),
            recv_delay_s=self.recv_delay.value() / 1000,
            recv_size=self.recv_size.value(),
            recv_sizes=tuple(int(t) for t in sizes_text),
            recv_gap_s=self.recv_gap.value() / 1000,
            max_recvs=self.max_recvs.value() or None,
        )

    # -- actions --------------------------------------------------------------------------------
    def run(self) -> None:
        if self.runner is None:
            self._start(stepped=False)

    def step(self) -> None:
        if self.runner is None:
            self._start(stepped=True)
        elif self.engine is not None and self.engine.stepped:
            self.engine.step()

    def _start(self, stepped: bool) -> None:
        try:
            scenario = self.scenario()
        except SocketLabError as exc:
            self.show_error(exc)
            return
        again = stepped and self.engine is not None and self.engine.stepped  # a stepped run ended
        self.engine = ScenarioEngine(scenario, stepped)
        self.view.clear()
        self.timeline.set_lanes(0, [])
        if again:
            self.verdict.setText(self.tr("Started again. Step mode: press Step for each recv()"))
        elif stepped:
            self.verdict.setText(self.tr("Step mode: press Step for each recv()"))
        else:
            self.verdict.setText(self.tr("Running…"))
        self._result = None  # the run before's verdict is not this one's
        self._set_details(str)
        self.set_state("")
        self._set_running(True)
        self.start_engine(self.engine)

    # -- events ---------------------------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        if isinstance(event, ScenarioStepped):
            self._show_step(event)
        elif isinstance(event, ScenarioFinished):
            result = event.result
            self._show_result(result)
            if event.draining:
                self._set_details(
                    lambda: (
                        self._verdict_details(result)
                        + " · "
                        + self.tr(
                            "the scenario's receiver stops here: press Step to go on calling recv(), "
                            "one per click, until every byte sent is read"
                        )
                    )
                )
            elif self.engine is not None and self.engine.stepped:
                self._set_details(
                    lambda: (
                        self._verdict_details(result)
                        + " · "
                        + self.tr("Press Step to start the scenario again")
                    )
                )
        else:
            super().handle_event(event)

    def _show_step(self, event: ScenarioStepped) -> None:
        assert self.engine is not None
        scenario = self.engine.scenario
        if event.call is not None:
            self._add_recv(
                event.call,
                [
                    f
                    for f in event.frames
                    if f.end <= event.call.offset + event.call.length and f.end > event.call.offset
                ],
            )
        recvs = self._recvs()
        read = sum(c.length for c in recvs)
        self._draw(scenario, list(event.sends), recvs, list(event.frames), marker=read)
        waiting = "?" if event.waiting is None else f"{event.waiting:,}"
        calls, call = len(recvs), event.call

        def text() -> str:
            if event.drained:
                return self.tr(
                    "Drained: {0:,} bytes read in {1} recv() calls, nothing is left to read. "
                    "Press Step to start the scenario again"
                ).format(read, calls)
            if event.draining and call is not None:
                return self.tr(
                    "Draining: recv() #{0} returned {1:,} bytes · "
                    "{2} bytes still waiting in the receive buffer"
                ).format(calls, call.length, waiting)
            return self.tr(
                "{0} recv() call(s) so far, {1:,} bytes read · {2} bytes waiting in the receive buffer"
            ).format(calls, read, waiting)

        self._set_details(text)

    def _recvs(self) -> list[Call]:
        store = self.view.store
        return [Call(0.0, store.chunk(i).offset, store.chunk(i).data) for i in range(len(store))]

    def _add_recv(self, call: Call, frames: list[Frame]) -> None:
        chunk = make_chunk(Direction.RECEIVED, call.data, call.offset, 1, self.tr("receiver"))
        self.view.add([(chunk, frames)])

    def _show_result(self, result: ScenarioResult) -> None:
        if not (self.engine is not None and self.engine.stepped):
            for call in result.recvs:
                end = call.offset + call.length
                self._add_recv(call, [f for f in result.frames if call.offset < f.end <= end])
        self._draw(result.scenario, list(result.sends), list(result.recvs), list(result.frames))
        self._result = result
        self.verdict.setText(said(result.facts.text))
        self._set_details(lambda: self._verdict_details(result))
        self.status_message.emit(self.verdict.text())

    def _set_details(self, text: Callable[[], str]) -> None:
        """Show what *text()* says on the details line, and again when the language changes."""
        self._details = text
        self.details.setText(text())

    def _verdict_details(self, result: ScenarioResult) -> str:
        extra = [said(result.segments_text)]
        if result.waiting_after:
            extra.append(
                self.tr("{0:,} bytes were left unread in the receive buffer").format(result.waiting_after)
            )
        if result.announce_rtt_ms is not None:
            extra.append(
                self.tr("announce-and-wait costs one extra round trip: {0:.3f} ms").format(
                    result.announce_rtt_ms
                )
            )
        return " · ".join(extra)

    def changeEvent(self, event: QEvent) -> None:
        """Say this run's verdict and details, and "(edited)", again in the new language."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self._name_preset()
            if self._result is not None:
                self.verdict.setText(said(self._result.facts.text))
            self.details.setText(self._details())

    def _draw(
        self,
        scenario: Scenario,
        sends: list[Call],
        recvs: list[Call],
        frames: list[Frame],
        marker: int | None = None,
    ) -> None:
        total = max(sum(c.length for c in sends), sum(c.length for c in recvs), 1)

        def calls(items: list[Call], colour: QColor, name: str) -> list[Span]:
            return [
                Span(
                    c.offset,
                    c.offset + max(c.length, 1),
                    str(c.length),
                    self.tr("{0} #{1}: offset {2:,}–{3:,}, {4:,} bytes at {5:.3f} ms{6}").format(
                        name,
                        i + 1,
                        c.offset,
                        c.offset + c.length,
                        c.length,
                        c.time * 1000,
                        "" if c.waiting is None else self.tr(" ({0:,} bytes were waiting)").format(c.waiting),
                    ),
                    colour,
                )
                for i, c in enumerate(items)
            ]

        frame_spans = [
            Span(
                f.start,
                max(f.end, f.start + 1),
                f"#{f.index + 1}",
                self.tr("frame #{0}: header {1}–{2}, payload {3}–{4} ({5:,} bytes)").format(
                    f.index + 1, f.start, f.payload_start, f.payload_start, f.payload_end, len(f.payload)
                ),
                FRAME_COLOUR,
                f.payload_start,
            )
            for f in frames
        ]
        lanes = [
            (self.tr("send()"), calls(sends, style.SENT_BG, "send()")),
            (self.tr("recv()"), calls(recvs, style.RECEIVED_BG, "recv()")),
        ]
        if scenario.cure is not Cure.NONE:
            lanes.append((self.tr("frames"), frame_spans))
        self.timeline.set_lanes(total, lanes, marker)

    def engine_finished(self) -> None:
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        stepping = running and self.engine is not None and self.engine.stepped
        self.step_button.setEnabled(not running or stepping)
        # The scenario on screen is the one running: another preset chosen mid-step left the old
        # run's figures under the new name, with Run greyed and no word why. Stop first, as on the
        # other tabs; the messages stay black (read-only) for the class to read along.
        for widget in self.scenario_widgets():
            widget.setEnabled(not running)
        self.messages.setReadOnly(running)

    def scenario_widgets(self) -> list[QWidget]:
        """The inputs that describe the scenario (but the messages box), greyed while it runs."""
        return [
            self.preset,
            self.generate_count,
            self.generate_size,
            self.generate_button,
            self.variable_button,
            self.sendall,
            self.gap,
            self.nodelay,
            self.cure,
            self.recv_delay,
            self.recv_size,
            self.recv_sizes,
            self.recv_gap,
            self.max_recvs,
        ]

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("sticking/preset", self.preset.currentData())

    def load_settings(self, settings: QSettings) -> None:
        index = self.preset.findData(str_value(settings, "sticking/preset", "two-sends"))
        if index > 0:
            self.preset.setCurrentIndex(index)


class StickingPage(Page):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scenario = ScenarioPane(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scenario)
        self.scenario.status_message.connect(self.status_message)

    def panes(self) -> list[EnginePane]:
        return [self.scenario]

    def python_code(self) -> str:
        return pycode.sticking(self.scenario.scenario())

    def save_settings(self, settings: QSettings) -> None:
        self.scenario.save_settings(settings)

    def load_settings(self, settings: QSettings) -> None:
        self.scenario.load_settings(settings)
