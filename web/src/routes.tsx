/**
 * Every page of the app. Pages before sign-in are public; everything under
 * the app frame needs a session, and each page the role its API needs (the
 * same action names as the API's access matrix).
 */
import { lazy } from 'react';
import { createBrowserRouter } from 'react-router';
import { AppLayout } from './layout/AppLayout';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { HomeRedirect } from './pages/HomeRedirect';
import { NotFoundPage } from './pages/NotFoundPage';
import { PendingPage } from './pages/PendingPage';
import { ResetPasswordPage } from './pages/ResetPasswordPage';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';
import { VerifyPage } from './pages/VerifyPage';
import { RequireSession } from './session/RequireSession';

// The signed-in pages load on first use: the sign-in page stays small and quick.
const AuditPage = lazy(() => import('./admin/AuditPage').then((m) => ({ default: m.AuditPage })));
const HeldPage = lazy(() => import('./admin/HeldPage').then((m) => ({ default: m.HeldPage })));
const UsersPage = lazy(() => import('./admin/UsersPage').then((m) => ({ default: m.UsersPage })));
const ExportsPage = lazy(() => import('./exports/ExportsPage').then((m) => ({ default: m.ExportsPage })));
const PatientPage = lazy(() => import('./studies/PatientPage').then((m) => ({ default: m.PatientPage })));
const StudyBrowserPage = lazy(() => import('./studies/StudyBrowserPage').then((m) => ({ default: m.StudyBrowserPage })));
const StudyPage = lazy(() => import('./studies/StudyPage').then((m) => ({ default: m.StudyPage })));
const SubscriptionsPage = lazy(() => import('./subscriptions/SubscriptionsPage').then((m) => ({ default: m.SubscriptionsPage })));
const UploadDetailPage = lazy(() => import('./upload/UploadDetailPage').then((m) => ({ default: m.UploadDetailPage })));
const UploadPage = lazy(() => import('./upload/UploadPage').then((m) => ({ default: m.UploadPage })));
const ViewerPage = lazy(() => import('./viewer/ViewerPage').then((m) => ({ default: m.ViewerPage })));

export const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInPage /> },
  { path: '/sign-up', element: <SignUpPage /> },
  { path: '/verify', element: <VerifyPage /> },
  { path: '/forgot-password', element: <ForgotPasswordPage /> },
  { path: '/reset-password', element: <ResetPasswordPage /> },
  { path: '/pending', element: <PendingPage /> },
  { path: '/', element: <HomeRedirect /> },
  {
    element: (
      <RequireSession>
        <AppLayout />
      </RequireSession>
    ),
    children: [
      { path: '/studies', element: <RequireSession action="studies:read"><StudyBrowserPage /></RequireSession> },
      { path: '/studies/:studyUid', element: <RequireSession action="studies:read"><StudyPage /></RequireSession> },
      { path: '/studies/:studyUid/viewer', element: <RequireSession action="studies:read"><ViewerPage /></RequireSession> },
      { path: '/patients/:patientId', element: <RequireSession action="studies:read"><PatientPage /></RequireSession> },
      { path: '/subscriptions', element: <RequireSession action="subscriptions:manage"><SubscriptionsPage /></RequireSession> },
      { path: '/exports', element: <RequireSession action="exports:read"><ExportsPage /></RequireSession> },
      { path: '/upload', element: <RequireSession action="uploads:create"><UploadPage /></RequireSession> },
      { path: '/uploads/:uploadId', element: <RequireSession action="uploads:read"><UploadDetailPage /></RequireSession> },
      { path: '/admin/users', element: <RequireSession action="users:read"><UsersPage /></RequireSession> },
      { path: '/admin/audit', element: <RequireSession action="audit:read"><AuditPage /></RequireSession> },
      { path: '/admin/held', element: <RequireSession action="held:review"><HeldPage /></RequireSession> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
