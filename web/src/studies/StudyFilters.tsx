/**
 * The worklist filters: a search box, study date (presets or a range) and
 * modalities up front; patient, sex, age, body part, report and labels one
 * click away. Every change goes to the URL at once (text fields on Enter or
 * after a short pause).
 */
import { Badge, Button, Collapse, Group, MultiSelect, NumberInput, SegmentedControl, Select, Stack, TagsInput, TextInput, Tooltip, VisuallyHidden } from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import { useDebouncedCallback, useDisclosure } from '@mantine/hooks';
import { IconAdjustmentsHorizontal, IconHelpCircle, IconSearch, IconX } from '@tabler/icons-react';
import type { PatientSex, StudyFilter } from '@medlake/shared/query/study-filter';
import { useEffect, useState } from 'react';
import type { DatePreset } from './date-presets';
import { datePresetLabels, datePresets, matchingPreset, presetRange } from './date-presets';
import { bodyPartSuggestions, modalityOptions } from './format';
import { activeFilterCount } from './useStudyFilter';

interface Props {
  filter: StudyFilter;
  change(changes: Partial<StudyFilter>): void;
  reset(): void;
}

const searchSyntaxId = 'search-syntax';

/** The report search syntax (docs/reports.md, Search), where the user types it. */
const searchSyntax = (
  <>
    Words are all required, as findings: <b>pneumonia</b> does not find &ldquo;No evidence of pneumonia&rdquo;. <b>no:pneumonia</b> (or <b>no pneumonia</b>) finds reports that rule
    it out, <b>any:pneumonia</b> both. <b>&quot;exact phrase&quot;</b>, <b>-word</b> to exclude, <b>or</b> between words.
  </>
);

/** A tooltip for the eye; screen readers get the same text as the field's description. */
function SearchSyntaxIcon() {
  return (
    <Tooltip label={<div style={{ maxWidth: 320 }}>{searchSyntax}</div>} multiline withArrow position="bottom-start">
      <span aria-hidden="true" style={{ display: 'inline-flex', color: 'var(--mantine-color-dimmed)' }}>
        <IconHelpCircle size={16} />
      </span>
    </Tooltip>
  );
}

/** A text field that writes to the filter after a pause or on Enter, and follows the URL. */
function FilterText({ label, value, onCommit, placeholder, icon, width, description, help }: { label: string; value: string | undefined; onCommit: (value: string | undefined) => void; placeholder?: string; icon?: React.ReactNode; width?: number | string; description?: string; help?: { icon: React.ReactNode; describedBy: string } }) {
  const [text, setText] = useState(value ?? '');
  useEffect(() => setText(value ?? ''), [value]);
  const commit = useDebouncedCallback((next: string) => onCommit(next.trim() || undefined), 500);
  return (
    <TextInput
      label={help ? <span style={{ display: 'inline-flex', alignItems: 'center', gap: 4 }}>{label}{help.icon}</span> : label}
      description={description}
      aria-describedby={help?.describedBy}
      placeholder={placeholder}
      leftSection={icon}
      value={text}
      w={width}
      onChange={(event) => {
        setText(event.currentTarget.value);
        commit(event.currentTarget.value);
      }}
      onKeyDown={(event) => {
        if (event.key === 'Enter') {
          commit.flush?.();
          onCommit(text.trim() || undefined);
        }
      }}
      rightSection={
        text ? (
          <IconX
            size={14}
            style={{ cursor: 'pointer' }}
            aria-label={`Clear ${label}`}
            role="button"
            tabIndex={0}
            onClick={() => {
              setText('');
              onCommit(undefined);
            }}
            onKeyDown={(event) => {
              if (event.key === 'Enter' || event.key === ' ') {
                setText('');
                onCommit(undefined);
              }
            }}
          />
        ) : null
      }
    />
  );
}

const sexOptions = [
  { value: 'F', label: 'Female' },
  { value: 'M', label: 'Male' },
  { value: 'O', label: 'Other' },
];

export function StudyFilters({ filter, change, reset }: Props) {
  const today = new Date();
  const preset = matchingPreset({ dateFrom: filter.dateFrom, dateTo: filter.dateTo }, today);
  const [customOpen, setCustomOpen] = useState(preset === 'custom');
  const [more, { toggle: toggleMore }] = useDisclosure(Boolean(filter.patientId || filter.sex || filter.ageMin !== undefined || filter.ageMax !== undefined || filter.bodyParts.length || filter.labels.length || filter.hasReport !== undefined));
  const shownPreset: DatePreset = customOpen ? 'custom' : preset;
  const active = activeFilterCount(filter);

  const choosePreset = (value: string) => {
    const chosen = value as DatePreset;
    if (chosen === 'custom') {
      setCustomOpen(true);
      return;
    }
    setCustomOpen(false);
    const range = presetRange(chosen, today);
    change({ dateFrom: range.dateFrom, dateTo: range.dateTo });
  };

  return (
    <Stack gap="sm" component="section" aria-label="Filters">
      <Group align="flex-end" gap="sm" wrap="wrap">
        <FilterText label="Search" placeholder="Description or report text" icon={<IconSearch size={16} />} help={{ icon: <SearchSyntaxIcon />, describedBy: searchSyntaxId }} value={filter.q} onCommit={(q) => change({ q })} width={280} />
        <VisuallyHidden id={searchSyntaxId}>{searchSyntax}</VisuallyHidden>
        <div>
          <div id="study-date-label" style={{ fontSize: 'var(--mantine-font-size-sm)', fontWeight: 500, marginBottom: 4 }}>
            Study date
          </div>
          <SegmentedControl aria-labelledby="study-date-label" value={shownPreset} onChange={choosePreset} data={datePresets.map((p) => ({ value: p, label: datePresetLabels[p] }))} size="sm" />
        </div>
        {shownPreset === 'custom' ? (
          <DatePickerInput
            type="range"
            label="From – to"
            placeholder="Pick dates"
            value={[filter.dateFrom ?? null, filter.dateTo ?? null]}
            onChange={([from, to]) => {
              if ((from && to) || (!from && !to)) change({ dateFrom: from ?? undefined, dateTo: to ?? undefined });
            }}
            valueFormat="YYYY-MM-DD"
            allowSingleDateInRange
            clearable
            w={230}
          />
        ) : null}
        <MultiSelect
          label="Modality"
          placeholder={filter.modalities.length ? undefined : 'Any'}
          data={[...new Set([...modalityOptions, ...filter.modalities])]}
          value={filter.modalities}
          onChange={(modalities) => change({ modalities })}
          searchable
          clearable
          w={220}
          comboboxProps={{ withinPortal: true }}
        />
        <Button variant={more ? 'light' : 'default'} leftSection={<IconAdjustmentsHorizontal size={16} />} onClick={toggleMore} aria-expanded={more} aria-controls="more-filters">
          More filters
        </Button>
        {active > 0 ? (
          <Button variant="subtle" color="gray" leftSection={<IconX size={14} />} onClick={() => { setCustomOpen(false); reset(); }}>
            Clear {active} {active === 1 ? 'filter' : 'filters'}
          </Button>
        ) : null}
      </Group>
      <Collapse expanded={more} id="more-filters">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <FilterText label="Patient" placeholder="Pseudonymous ID" value={filter.patientId} onCommit={(patientId) => change({ patientId })} width={220} />
          <Select label="Sex" placeholder="Any" data={sexOptions} value={filter.sex ?? null} onChange={(sex) => change({ sex: (sex as PatientSex | null) ?? undefined })} clearable w={120} />
          <NumberInput label="Age from" placeholder="0" min={0} max={150} value={filter.ageMin ?? ''} onChange={(v) => {
              const ageMin = typeof v === 'number' ? v : undefined;
              if (ageMin === undefined || filter.ageMax === undefined || ageMin <= filter.ageMax) change({ ageMin });
            }} w={100} suffix=" y" />
          <NumberInput label="Age to" placeholder="150" min={0} max={150} value={filter.ageMax ?? ''} onChange={(v) => {
              const ageMax = typeof v === 'number' ? v : undefined;
              if (ageMax === undefined || filter.ageMin === undefined || ageMax >= filter.ageMin) change({ ageMax });
            }} w={100} suffix=" y" />
          <TagsInput
            label="Body part"
            placeholder={filter.bodyParts.length ? undefined : 'Any'}
            data={[...bodyPartSuggestions]}
            value={filter.bodyParts}
            onChange={(parts) => change({ bodyParts: parts.map((p) => p.trim().toUpperCase().replace(/[^A-Z0-9_ ]/g, '')).filter(Boolean) })}
            clearable
            w={220}
          />
          <Select
            label="Report"
            placeholder="Any"
            data={[
              { value: 'true', label: 'With a report' },
              { value: 'false', label: 'Without a report' },
            ]}
            value={filter.hasReport === undefined ? null : String(filter.hasReport)}
            onChange={(v) => change({ hasReport: v === null ? undefined : v === 'true' })}
            clearable
            w={170}
          />
          <TagsInput label="Labels" placeholder={filter.labels.length ? undefined : 'Any'} value={filter.labels} onChange={(labels) => change({ labels })} clearable w={220} />
        </Group>
      </Collapse>
      {active > 0 ? (
        <Group gap={6} aria-label="Active filters">
          {filter.q ? <Badge variant="light">text: {filter.q}</Badge> : null}
          {filter.dateFrom || filter.dateTo ? <Badge variant="light">date: {filter.dateFrom ?? '…'} – {filter.dateTo ?? '…'}</Badge> : null}
          {filter.modalities.length ? <Badge variant="light">modality: {filter.modalities.join(', ')}</Badge> : null}
          {filter.patientId ? <Badge variant="light">patient: {filter.patientId}</Badge> : null}
          {filter.sex ? <Badge variant="light">sex: {filter.sex}</Badge> : null}
          {filter.ageMin !== undefined || filter.ageMax !== undefined ? <Badge variant="light">age: {filter.ageMin ?? 0}–{filter.ageMax ?? '…'}</Badge> : null}
          {filter.bodyParts.length ? <Badge variant="light">body part: {filter.bodyParts.join(', ')}</Badge> : null}
          {filter.hasReport !== undefined ? <Badge variant="light">{filter.hasReport ? 'with report' : 'without report'}</Badge> : null}
          {filter.labels.length ? <Badge variant="light">labels: {filter.labels.join(', ')}</Badge> : null}
        </Group>
      ) : null}
    </Stack>
  );
}
