"""The waveform view: peak-decimated drawing of any length of audio, playhead, click to seek, a loop region dragged on
the timeline, zoom (wheel, fit, selection), a spectrogram toggle, and shading over what plays at preview quality.

Only the visible columns are drawn: every pan or zoom asks the peak pyramid for about one min/max pair per pixel, so a
four-minute take redraws as fast as a four-second one. Stereo audio (a wide take) is drawn as two lanes, left above
right, as audio editors do; the spectrogram shows their mix.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal

from studio.audio.peaks import PeakPyramid, spectrogram
from .envelope import EnvelopeItem


class TimelineViewBox(pg.ViewBox):
    """Left click seeks; left drag selects a region; wheel zooms the time axis only."""

    clicked = Signal(float)
    dragged = Signal(float, float, bool)  # start, end, finished

    def __init__(self):
        super().__init__()
        self.setMouseEnabled(x=True, y=False)
        self.setMenuEnabled(False)

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph's name
        if ev.button() == Qt.LeftButton:
            ev.accept()
            self.clicked.emit(float(self.mapSceneToView(ev.scenePos()).x()))
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - pyqtgraph's name
        if ev.button() != Qt.LeftButton:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        a = float(self.mapSceneToView(ev.buttonDownScenePos()).x())
        b = float(self.mapSceneToView(ev.scenePos()).x())
        self.dragged.emit(min(a, b), max(a, b), bool(ev.isFinish()))


PREVIEW_BRUSH = (150, 150, 160, 70)  # grey wash over stretches that play at preview quality
EDIT_MARKER_COLOUR = "#b57edc"  # a joined take's seam, or where a regenerated take's own part starts


class WaveformView(pg.PlotWidget):
    seek_requested = Signal(float)
    region_selected = Signal(float, float)  # a drag finished: the new loop / range region

    def __init__(self, parent=None):
        self.vb = TimelineViewBox()
        super().__init__(parent, viewBox=self.vb)
        self.pyramids: list[PeakPyramid] = []  # one per channel drawn: left (or mono) first
        self.showing_spectrogram = False
        self.setLabel("bottom", "time", units="s")
        self.hideAxis("left")
        self._set_y_extent(1.0)
        self.audio: Optional[np.ndarray] = None  # (T,) mono, or (2, T) left and right
        self.sr = 44100
        self.duration = 0.0
        self.lanes: list[tuple] = []  # per channel: (curve_lo, curve_hi, envelope), drawn about its lane's centre
        self.curve_lo, self.curve_hi, self.fill = self._lane()
        self._set_title()
        self.spec_image = pg.ImageItem()
        self.spec_image.setColorMap(pg.colormap.get("magma"))
        self.spec_image.setVisible(False)
        self.addItem(self.spec_image)
        self.region = pg.LinearRegionItem(values=(0, 0), brush=pg.mkBrush(255, 214, 102, 60), movable=True)
        self.region.setVisible(False)
        self.region.sigRegionChangeFinished.connect(self._region_moved)
        self.addItem(self.region)
        self.playhead = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#e74c3c", width=2))
        self.addItem(self.playhead)
        self.sampled_edge = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#888", style=Qt.DashLine))
        self.sampled_edge.setVisible(False)
        self.addItem(self.sampled_edge)
        self.edit_marker = pg.InfiniteLine(pos=0, angle=90, movable=False, label=" ",
                                           pen=pg.mkPen(EDIT_MARKER_COLOUR, width=2, style=Qt.DashDotLine),
                                           labelOpts={"position": 0.92, "color": EDIT_MARKER_COLOUR})
        self.edit_marker.setVisible(False)
        self.addItem(self.edit_marker)
        self.preview_shades: list = []  # one grey LinearRegionItem per stretch at preview quality, reused
        self._redraw_timer = QTimer(self, singleShot=True, interval=15)
        self._redraw_timer.timeout.connect(self.redraw)
        self.vb.sigXRangeChanged.connect(lambda *_: self._redraw_timer.start())
        self.vb.clicked.connect(self._clicked)
        self.vb.dragged.connect(self._dragged)

    # -- data -------------------------------------------------------------------------------------------------------
    def _lane(self) -> tuple:
        pen = pg.mkPen("#4f9dd9")
        lane = (self.plot(pen=pen), self.plot(pen=pen), EnvelopeItem())
        self.addItem(lane[2])
        for item in lane:
            item.setVisible(not self.showing_spectrogram)
        self.lanes.append(lane)
        return lane

    @property
    def channels(self) -> int:
        """Channels shown: 1 (mono), 2 (stereo: two lanes), 0 (nothing)."""
        return len(self.pyramids)

    def set_audio(self, audio: Optional[np.ndarray], sr: int, keep_view: bool = False) -> None:
        """Show ``audio``: (T,) mono, or (2, T) left and right in two lanes; None clears the view."""
        keep_view = keep_view and self.duration > 0  # nothing shown before: fit the new audio
        self.audio = None if audio is None else np.asarray(audio, dtype=np.float32)
        self.sr = int(sr)
        rows = [] if self.audio is None or not self.audio.shape[-1] else list(np.atleast_2d(self.audio))
        self.pyramids = [PeakPyramid(row, self.sr) for row in rows]
        while len(self.lanes) < len(rows):
            self._lane()
        self.duration = self.audio.shape[-1] / self.sr if rows else 0.0
        self.vb.setLimits(xMin=0, xMax=self.duration or 1.0)
        peak = float(np.abs(self.audio).max()) if rows else 1.0
        self._set_y_extent(max(peak, 0.02))  # quiet takes still fill the view
        self._set_title()
        if self.showing_spectrogram:
            self._update_spectrogram()
        if not keep_view:
            self.zoom_fit()
        self.redraw()

    def set_sampled_until(self, seconds: Optional[float]) -> None:
        """Dashed line where the sampled audio ends while a job is running (None hides it)."""
        self.sampled_edge.setVisible(seconds is not None)
        if seconds is not None:
            self.sampled_edge.setValue(seconds)

    def set_marker(self, marker: Optional[tuple]) -> None:
        """A labelled line at (seconds, text): a joined take's seam, or where a take was regenerated from (None: no
        line)."""
        self.edit_marker.setVisible(marker is not None)
        if marker is not None:
            self.edit_marker.setValue(marker[0])
            self.edit_marker.label.setFormat(marker[1].replace("{", "{{").replace("}", "}}"))  # shown as it is

    def marker(self) -> Optional[tuple]:
        """(seconds, text) of the line as drawn, or None."""
        if not self.edit_marker.isVisible():
            return None
        return float(self.edit_marker.value()), self.edit_marker.label.toPlainText()

    def set_preview_ranges(self, ranges) -> None:
        """Shade ((start_s, end_s), ...): the stretches the player plays at preview quality (the state decides)."""
        ranges = list(ranges)
        while len(self.preview_shades) < len(ranges):
            shade = pg.LinearRegionItem(values=(0, 0), brush=pg.mkBrush(*PREVIEW_BRUSH), pen=pg.mkPen(None),
                                        movable=False)
            shade.setZValue(-10)  # under the waveform, the loop region and the playhead
            shade.setToolTip("Preview quality here: upsample this range for full quality")
            self.addItem(shade)
            self.preview_shades.append(shade)
        for shade, rng in zip(self.preview_shades, ranges + [None] * (len(self.preview_shades) - len(ranges))):
            shade.setVisible(rng is not None)
            if rng is not None:
                shade.setRegion(rng)

    def preview_ranges(self) -> list[tuple]:
        """The stretches shaded as preview quality, as drawn."""
        return [tuple(float(v) for v in s.getRegion()) for s in self.preview_shades if s.isVisible()]

    def lane_centres(self) -> list[float]:
        """The amplitude each channel's lane is drawn about: 0 for mono; left above right for stereo."""
        if self.channels < 2:
            return [0.0] * self.channels
        half = self.y_extent / 2
        return [half, -half]

    def redraw(self) -> None:
        (t0, t1), _ = self.vb.viewRange()
        width = max(64, int(self.vb.width()) or 800)
        empty = (np.zeros(0),) * 3
        for i, (curve_lo, curve_hi, fill) in enumerate(self.lanes):
            if i < self.channels:
                times, lo, hi = self.pyramids[i].view(max(0.0, t0), min(self.duration, t1), width)
                centre = self.lane_centres()[i]
                lo, hi = lo + centre, hi + centre
            else:
                times, lo, hi = empty
            curve_lo.setData(times, lo)
            curve_hi.setData(times, hi)
            fill.set_envelope(times, lo, hi)

    # -- spectrogram ------------------------------------------------------------------------------------------------
    def _set_y_extent(self, peak: float) -> None:
        """Show amplitudes -peak..peak with 10% room either side (what padding=0.05 of the span gave before), in
        each lane (a stereo view is twice as tall in amplitude, one lane above the other)."""
        self.y_extent = peak * 1.1 * max(1, self.channels)
        self.setYRange(-self.y_extent, self.y_extent, padding=0)

    def _set_title(self) -> None:
        name = "Spectrogram" if self.showing_spectrogram else "Waveform"
        stereo = " (stereo: left above, right below)" if self.channels == 2 and not self.showing_spectrogram else ""
        self.setTitle(name + stereo, size="9pt")

    def set_spectrogram(self, on: bool) -> None:
        self.showing_spectrogram = bool(on)
        self._set_title()
        self.spec_image.setVisible(self.showing_spectrogram)
        for item in (item for lane in self.lanes for item in lane):
            item.setVisible(not self.showing_spectrogram)
        if self.showing_spectrogram:
            self._update_spectrogram()

    def _update_spectrogram(self) -> None:
        if not self.channels:
            self.spec_image.clear()
            return
        mix = self.audio if self.audio.ndim == 1 else self.audio.mean(axis=0)
        hop = max(256, len(mix) // 4000)  # at most ~4000 columns, whatever the length
        _, _, db = spectrogram(mix, self.sr, n_fft=1024, hop=hop)
        self.spec_image.setImage(db.T, levels=(-90, 0), autoLevels=False)  # (Tf, F): x = time, y = frequency
        # across the whole height the view shows (set from the audio's peak, not read back from the view, which has
        # not been laid out yet when a hidden view gets its audio)
        self.spec_image.setRect(0, -self.y_extent, self.duration, 2 * self.y_extent)

    # -- playhead, seeking, region -------------------------------------------------------------------------------
    def set_position(self, seconds: float) -> None:
        self.playhead.setValue(seconds)

    def _clicked(self, seconds: float) -> None:
        self.seek_requested.emit(float(np.clip(seconds, 0.0, self.duration)))

    def _dragged(self, a: float, b: float, finished: bool) -> None:
        a, b = max(0.0, a), min(self.duration, b)
        self.region.setVisible(True)
        self.region.blockSignals(True)
        self.region.setRegion((a, b))
        self.region.blockSignals(False)
        if finished and b - a > 0.01:
            self.region_selected.emit(a, b)

    def _region_moved(self) -> None:
        a, b = self.region.getRegion()
        self.region_selected.emit(float(a), float(b))

    def set_region(self, region: Optional[tuple]) -> None:
        self.region.setVisible(region is not None)
        if region is not None:
            self.region.blockSignals(True)
            self.region.setRegion(region)
            self.region.blockSignals(False)

    def selection(self) -> Optional[tuple]:
        if not self.region.isVisible():
            return None
        a, b = self.region.getRegion()
        return (float(a), float(b)) if b - a > 0.01 else None

    # -- zoom ---------------------------------------------------------------------------------------------------------
    def zoom_fit(self) -> None:
        self.vb.setXRange(0, self.duration or 1.0, padding=0)

    def zoom_selection(self) -> None:
        sel = self.selection()
        if sel is not None:
            self.vb.setXRange(*sel, padding=0.02)

    def zoom(self, factor: float) -> None:
        """factor < 1 zooms in around the playhead."""
        (t0, t1), _ = self.vb.viewRange()
        centre = float(self.playhead.value()) if t0 <= self.playhead.value() <= t1 else (t0 + t1) / 2
        half = max((t1 - t0) * factor / 2, 0.001)
        self.vb.setXRange(centre - half, centre + half, padding=0)
