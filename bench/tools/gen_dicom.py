#!/usr/bin/python3
# Source: medlake planning notes, shared/tools/gen_dicom.py (the generator of the Orthanc baseline data), copied unchanged below this line.
"""Deterministic synthetic CT/MR DICOM generator for benchmarks.

Writes patients x studies x series x slices as Explicit VR Little Endian files:

    OUT/<PatientID>/ST<k>/SE<n>/IM<nnnn>.dcm     and     OUT/manifest.tsv (one row per instance)

CT: 512x512 int16 (HU + 1024, RescaleIntercept -1024); MR: 256x256 uint16 (12 bits stored).
Pixels are a noisy body phantom, so they compress like real images, not like zeros.
Everything derives from (--seed, patient index): the same arguments give byte-identical files,
and a run with fewer patients is an exact prefix of a run with more.

    gen_dicom.py --patients 2 --studies-per-patient 1 --series-per-study 3 --slices 300 --out DIR
    gen_dicom.py --patients 5000 --studies-per-patient 2 --slices 1 --matrix 8 --out DIR  # headers-only
"""
import argparse
import datetime as dt
import os

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"

FIRST = ["JOHN", "MARY", "ANNA", "PETER", "LUCAS", "EMMA", "NOAH", "SOFIA", "DAVID", "LAURA",
         "MARC", "JULIE", "THOMAS", "CLARA", "HUGO", "ALICE", "PAUL", "NORA", "ERIC", "IRIS"]
LAST = ["DOE", "SMITH", "MARTIN", "DUBOIS", "MUELLER", "ROSSI", "GARCIA", "JANSSENS", "NOVAK",
        "LEROY", "PEETERS", "SCHMIDT", "BERNARD", "MOREAU", "FISCHER", "WEBER", "LAMBERT", "KOWALSKI"]
INSTITUTIONS = ["UNIVERSITY HOSPITAL NORTH", "ST. MARY MEDICAL CENTER", "CITY GENERAL HOSPITAL",
                "REGIONAL IMAGING INSTITUTE", "CHILDREN'S HOSPITAL EAST"]
PHYSICIANS = ["HOUSE^GREGORY", "GREY^MEREDITH", "KILDARE^JAMES", "QUINN^MICHAELA", "ROSS^DOUG"]
# body part, study description, series descriptions, slice thickness (mm), field of view (mm)
CT_PROTOCOLS = [
    ("CHEST", "CT CHEST W/O CONTRAST", ["AXIAL 1.25 LUNG", "AXIAL 5.0 MEDIASTINUM", "AXIAL 1.25 BONE"], 1.25, 360.0),
    ("ABDOMEN", "CT ABDOMEN PELVIS W CONTRAST", ["PORTAL VENOUS 2.5", "ARTERIAL 2.5", "DELAYED 5.0"], 2.5, 400.0),
    ("HEAD", "CT HEAD W/O CONTRAST", ["AXIAL 5.0 BRAIN", "AXIAL 0.625 BONE", "CORONAL REFORMAT"], 5.0, 240.0),
]
MR_PROTOCOLS = [
    ("BRAIN", "MR BRAIN W/WO CONTRAST", ["AX T1 SE", "AX T2 TSE", "AX FLAIR", "AX DWI B1000"], 5.0, 230.0),
    ("KNEE", "MR KNEE W/O CONTRAST", ["SAG PD FS", "COR T1", "AX T2 FS"], 3.0, 160.0),
    ("LSPINE", "MR L-SPINE W/O CONTRAST", ["SAG T1", "SAG T2", "AX T2"], 4.0, 280.0),
]


def uid(seed, *parts):
    return generate_uid(entropy_srcs=["/".join(str(p) for p in (seed,) + parts)])


def phantom(rng, modality, n, z):
    """One noisy slice of an elliptic body phantom; z in [0, 1) moves through the volume."""
    y, x = np.mgrid[-1:1:complex(0, n), -1:1:complex(0, n)]
    a, b = 0.80 + 0.08 * np.sin(np.pi * z), 0.62 + 0.05 * np.cos(np.pi * z)
    body = (x / a) ** 2 + (y / b) ** 2 < 1
    if modality == "CT":  # stored value = HU + 1024
        img = np.full((n, n), -1000.0)
        img[body] = 40.0
        img[body & ((x / a) ** 2 + (y / b) ** 2 > 0.85)] = 700.0  # bone ring
        lung = (((x - 0.35) / 0.25) ** 2 + (y / 0.38) ** 2 < 1) | (((x + 0.35) / 0.25) ** 2 + (y / 0.38) ** 2 < 1)
        img[lung & body] = -850.0 + 60 * z
        img += rng.normal(0.0, 12.0, (n, n))
        return np.clip(img + 1024, 0, 4095).astype("<i2")
    img = np.where(body, 600.0 + 200 * np.cos(6 * x + 3 * z) * np.sin(5 * y), 0.0)
    img = np.abs(img + rng.normal(0.0, 25.0, (n, n)))
    return np.clip(img, 0, 4095).astype("<u2")


def write_series(out, seed, rng, pat, study, series, modality, nslices, matrix, rows):
    n = matrix or (512 if modality == "CT" else 256)
    fov = study["fov"]
    spacing = fov / n
    thick = study["thickness"]
    series_uid = uid(seed, pat["index"], study["k"], series["number"], "series")
    frame_uid = uid(seed, pat["index"], study["k"], "frame")
    sdir = os.path.join(out, pat["id"], f"ST{study['k']}", f"SE{series['number']}")
    os.makedirs(sdir, exist_ok=True)
    for i in range(nslices):
        sop = uid(seed, pat["index"], study["k"], series["number"], i)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_STORAGE if modality == "CT" else MR_STORAGE
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        path = os.path.join(sdir, f"IM{i + 1:04d}.dcm")
        ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, sop
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study["date"]
        ds.StudyTime = study["time"]
        ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = series["time"]
        ds.AccessionNumber = study["accession"]
        ds.Modality = modality
        ds.Manufacturer, ds.ManufacturerModelName = "SYNTHETIC", ("SYNTH CT 64" if modality == "CT" else "SYNTH MR 3T")
        ds.InstitutionName = study["institution"]
        ds.ReferringPhysicianName = study["referrer"]
        ds.StationName = f"{modality}SCAN{study['k'] % 3 + 1}"
        ds.StudyDescription = study["description"]
        ds.SeriesDescription = series["description"]
        ds.PatientName, ds.PatientID = pat["name"], pat["id"]
        ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = pat["birth"], pat["sex"], study["age"]
        ds.BodyPartExamined = study["body_part"]
        ds.SliceThickness = ds.SpacingBetweenSlices = thick
        ds.PatientPosition = "HFS"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study["uid"], series_uid
        ds.StudyID, ds.SeriesNumber, ds.AcquisitionNumber, ds.InstanceNumber = str(study["k"] + 1), series["number"], 1, i + 1
        z = -thick * i + 0.0
        ds.ImagePositionPatient = [round(-fov / 2, 3), round(-fov / 2, 3), round(z, 3)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.FrameOfReferenceUID, ds.PositionReferenceIndicator, ds.SliceLocation = frame_uid, "", round(z, 3)
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = n
        ds.PixelSpacing = [round(spacing, 6), round(spacing, 6)]
        ds.BitsAllocated = 16
        if modality == "CT":
            ds.KVP, ds.XRayTubeCurrent, ds.ExposureTime = 120, 250, 500
            ds.ConvolutionKernel, ds.ReconstructionDiameter = "STANDARD", fov
            ds.GantryDetectorTilt, ds.TableHeight = 0, 160
            ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, 1
            ds.WindowCenter, ds.WindowWidth = 40, 400
            ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        else:
            ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions = "SE", "SK", ""
            ds.MRAcquisitionType, ds.SequenceName = "2D", series["description"].split()[-1]
            ds.RepetitionTime, ds.EchoTime, ds.EchoNumbers = 500 + 100 * series["number"], 15, 1
            ds.MagneticFieldStrength, ds.ImagingFrequency = 3, 127.7
            ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
            ds.WindowCenter, ds.WindowWidth = 600, 1200
        ds.PixelData = phantom(rng, modality, n, i / max(nslices, 1)).tobytes()
        ds.save_as(path, write_like_original=False)
        rows.append((os.path.relpath(path, out), os.path.getsize(path), pat["id"], study["uid"], series_uid, sop,
                     modality, study["date"], n))


def patient_records(seed, index, args):
    rng = np.random.default_rng([seed, index])
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=int(rng.integers(0, 27000)))
    pat = {"index": index, "id": f"SB{seed}-{index:06d}", "sex": "MF"[int(rng.integers(2))],
           "name": f"{LAST[int(rng.integers(len(LAST)))]}^{FIRST[int(rng.integers(len(FIRST)))]}",
           "birth": birth.strftime("%Y%m%d")}
    studies = []
    for k in range(args.studies_per_patient):
        modality = args.modality if args.modality != "mix" else ("CT" if rng.random() < 0.7 else "MR")
        protos = CT_PROTOCOLS if modality == "CT" else MR_PROTOCOLS
        body_part, description, series_desc, thickness, fov = protos[int(rng.integers(len(protos)))]
        date = dt.date(2015, 1, 1) + dt.timedelta(days=int(rng.integers(0, 3652)))
        studies.append({
            "k": k, "modality": modality, "uid": uid(seed, index, k, "study"), "body_part": body_part,
            "description": description, "series": series_desc, "thickness": thickness, "fov": fov,
            "date": date.strftime("%Y%m%d"), "time": f"{int(rng.integers(7, 19)):02d}{int(rng.integers(60)):02d}00",
            "age": f"{max(0, (date - birth).days // 365):03d}Y", "accession": f"A{seed % 1000:03d}{index:07d}{k:02d}",
            "institution": INSTITUTIONS[int(rng.integers(len(INSTITUTIONS)))],
            "referrer": PHYSICIANS[int(rng.integers(len(PHYSICIANS)))]})
    return rng, pat, studies


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patients", type=int, default=2)
    p.add_argument("--studies-per-patient", type=int, default=1)
    p.add_argument("--series-per-study", type=int, default=2)
    p.add_argument("--slices", type=int, default=50, help="instances per series")
    p.add_argument("--modality", choices=["mix", "CT", "MR"], default="mix", help="mix: ~70%% CT studies, rest MR")
    p.add_argument("--matrix", type=int, default=0, help="override rows=columns (e.g. 8 for headers-only data)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    os.makedirs(args.out, exist_ok=True)
    rows = []
    for index in range(args.patients):
        rng, pat, studies = patient_records(args.seed, index, args)
        for study in studies:
            for s in range(args.series_per_study):
                series = {"number": s + 1, "description": study["series"][s % len(study["series"])],
                          "time": f"{study['time'][:2]}{(int(study['time'][2:4]) + s) % 60:02d}00"}
                write_series(args.out, args.seed, rng, pat, study, series, study["modality"], args.slices,
                             args.matrix, rows)
    with open(os.path.join(args.out, "manifest.tsv"), "w") as f:
        f.write("path\tbytes\tpatient_id\tstudy_uid\tseries_uid\tsop_uid\tmodality\tstudy_date\tmatrix\n")
        for r in rows:
            f.write("\t".join(str(v) for v in r) + "\n")
    total = sum(r[1] for r in rows)
    print(f"wrote {len(rows)} instances, {len({r[3] for r in rows})} studies, {total / 1e6:.1f} MB to {args.out}")


if __name__ == "__main__":
    main()
